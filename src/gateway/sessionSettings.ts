import type { LoggingLevel } from '@modelcontextprotocol/sdk/types.js';
import type { Downstream } from '../downstream/downstream.js';
import { errorMessage, type Logger } from '../log/logger.js';
import type { ClientSettingsView, Subscription } from './clientSettings.js';

/** RFC 5424 severities as MCP names them, least severe first. */
const SEVERITY: readonly LoggingLevel[] = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'];

interface OneSession {
  level?: LoggingLevel;
  /** By the URI the session knows. */
  subscriptions: Map<string, Subscription>;
}

/** The most verbose of the levels set; undefined when none is. */
export function mostVerbose(levels: Iterable<LoggingLevel | undefined>): LoggingLevel | undefined {
  let best: number | undefined;
  for (const level of levels) {
    if (level === undefined) continue;
    const rank = SEVERITY.indexOf(level);
    if (best === undefined || rank < best) best = rank;
  }
  return best === undefined ? undefined : SEVERITY[best];
}

/** Whether a message at `level` reaches a client that asked for `wanted` (none asked: every message, as the server chooses). */
export function levelWanted(level: unknown, wanted: LoggingLevel | undefined): boolean {
  if (wanted === undefined || typeof level !== 'string') return true;
  return SEVERITY.indexOf(level as LoggingLevel) >= SEVERITY.indexOf(wanted);
}

/**
 * The log levels and subscriptions of many clients sharing the same servers (the HTTP
 * front's sessions). Each server is set to the most verbose level any session asked for, and
 * each session gets only the messages at or above its own; a server's subscription lasts
 * while any session holds it. A session that ends takes its settings with it.
 */
export class SessionSettings {
  private readonly sessions = new Map<string, OneSession>();
  private applied?: LoggingLevel;

  constructor(
    private readonly servers: readonly Downstream[],
    private readonly log: Logger,
  ) {}

  /** One session's side, for its request handlers. */
  view(id: string): ClientSettingsView {
    const session: OneSession = { subscriptions: new Map() };
    this.sessions.set(id, session);
    return {
      setLogLevel: async (level) => {
        session.level = level;
        await this.applyLevel();
      },
      subscribed: (clientUri, subscription) => void session.subscriptions.set(clientUri, subscription),
      unsubscribed: (clientUri) => {
        const gone = session.subscriptions.get(clientUri);
        session.subscriptions.delete(clientUri);
        return gone !== undefined && !this.holders(gone.server, gone.uri).length;
      },
      forgetUnless: (allowed) => {
        for (const [uri, { server }] of session.subscriptions) if (!allowed(server.name)) session.subscriptions.delete(uri);
      },
    };
  }

  /** A session ended: the subscriptions no other session holds are ended at their servers, and the level follows those left. */
  async drop(id: string): Promise<void> {
    const session = this.sessions.get(id);
    if (!session) return;
    this.sessions.delete(id);
    for (const { server, uri } of session.subscriptions.values()) {
      if (this.holders(server, uri).length || server.state.status !== 'ready') continue;
      await server
        .request({ method: 'resources/unsubscribe', params: { uri } })
        .catch((error: unknown) => this.log.debug(`${server.name}: resources/unsubscribe failed: ${errorMessage(error)}`));
    }
    await this.applyLevel();
  }

  /** Whether session `id` wants a log message at `level`. */
  wants(id: string, level: unknown): boolean {
    return levelWanted(level, this.sessions.get(id)?.level);
  }

  /** The sessions subscribed to a server's URI, each with the URI it knows it by. */
  holders(server: Downstream, uri: string): Array<{ id: string; clientUri: string }> {
    const found: Array<{ id: string; clientUri: string }> = [];
    for (const [id, session] of this.sessions) {
      for (const [clientUri, subscription] of session.subscriptions) {
        if (subscription.server.name === server.name && subscription.uri === uri) found.push({ id, clientUri });
      }
    }
    return found;
  }

  /** After a server (re)connects: the level, and every URI some session is subscribed to there, once. */
  async restore(server: Downstream): Promise<void> {
    await this.levelOn(server, this.applied);
    const uris = new Set<string>();
    for (const session of this.sessions.values()) {
      for (const subscription of session.subscriptions.values()) {
        if (subscription.server.name !== server.name) continue;
        subscription.server = server; // A server restarted by a config edit is a new object.
        uris.add(subscription.uri);
      }
    }
    for (const uri of uris) {
      await server
        .request({ method: 'resources/subscribe', params: { uri } })
        .catch((error: unknown) => this.log.warn(`${server.name}: could not restore the subscription to ${uri}: ${errorMessage(error)}`));
    }
  }

  private async applyLevel(): Promise<void> {
    const level = mostVerbose([...this.sessions.values()].map((session) => session.level));
    if (level === undefined || level === this.applied) return;
    this.applied = level;
    await Promise.all(this.servers.map((server) => this.levelOn(server, level)));
  }

  private async levelOn(server: Downstream, level: LoggingLevel | undefined): Promise<void> {
    if (!level || server.state.status !== 'ready' || !server.capabilities?.logging) return;
    await server
      .request({ method: 'logging/setLevel', params: { level } })
      .catch((error: unknown) => this.log.debug(`${server.name}: logging/setLevel failed: ${errorMessage(error)}`));
  }
}
