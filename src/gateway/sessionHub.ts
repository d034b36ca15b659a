import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, McpError, type ClientCapabilities, type Notification } from '@modelcontextprotocol/sdk/types.js';
import type { Downstream, DownstreamHooks } from '../downstream/downstream.js';
import type { DownstreamSet } from '../downstream/downstreamSet.js';
import { errorMessage, type Logger } from '../log/logger.js';
import { callIdCounter } from './callRelay.js';
import { clientSupports, forwardClientRequests, unionOfClientCapabilities, type ClientCapability } from './clientRequests.js';
import { GatewayCatalogs, type CatalogOptions } from './gatewayCatalogs.js';
import { chooseSession, type Candidate } from './sessionRouting.js';
import { SessionSettings } from './sessionSettings.js';
import { UpstreamServer, type UpstreamOptions } from './upstreamServer.js';
import type { LinePieces } from '../shared/rawText.js';

export interface HubOptions extends CatalogOptions {
  /**
   * What each new session's server says of itself, asked as the session opens, before its
   * `initialize` is answered (a bridged server's own is known once it is ready).
   */
  sessionOptions: () => Promise<Pick<UpstreamOptions, 'instructions' | 'identity'>>;
}

interface Session {
  id: string;
  /** Its server, once made (a session opening may wait for its options). */
  upstream?: UpstreamServer;
  since: number;
  from?: string;
  /** What its `initialize` declared, known from the moment it opens. */
  capabilities: ClientCapabilities;
}

export interface OpenOptions {
  /** The client's `initialize` request, as it came. */
  initialize: unknown;
  /** Where the client connected from. */
  from?: string;
  /** How to put a line on the client's stream as it is (a session over stdio: the bridge). */
  writeRawLine?: (line: string | LinePieces) => void;
}

/** A session as `gateway__status` and `gateway list` show it. */
export interface SessionInfo {
  /** The first 8 characters of its Mcp-Session-Id. */
  id: string;
  client?: string;
  connectedAt: string;
  /** Where the client connected from. */
  from?: string;
  callsInFlight: number;
}

/**
 * The clients of one gateway process over HTTP, each a session with its own MCP server, over
 * one set of downstreams. The hub wires the servers to the sessions once: list changes go to
 * every session; a server's log messages to the sessions whose level wants them, its resource
 * updates to the sessions subscribed; its sampling, elicitation and roots requests to the
 * session whose call caused them (see chooseSession); each server is told the union of what
 * the sessions declared. A session that ends takes its calls, settings and subscriptions with
 * it; nothing of one session reaches another.
 */
export class SessionHub {
  readonly catalogs: GatewayCatalogs;
  private readonly settings: SessionSettings;
  private readonly sessions = new Map<string, Session>();
  private readonly nextCallId = callIdCounter();
  /** Calls in flight that have already made a request of their client. */
  private attributed = new Set<string>();
  /** A server's URL elicitation, by id, and the session it went to (its completion goes there too). */
  private readonly elicitations = new Map<string, string>();
  private firstInitialized?: () => void;

  constructor(
    private readonly downstreams: DownstreamSet,
    private readonly log: Logger,
    private readonly options: HubOptions,
  ) {
    this.catalogs = new GatewayCatalogs(downstreams, { ...options, sessions: () => this.describe() });
    this.settings = new SessionSettings(downstreams.servers, log);
    downstreams.on('changed', () => {
      this.catalogs.rebuild();
      for (const session of this.live()) session.upstream.listsChanged();
    });
    downstreams.on('removed', (server) => {
      for (const session of this.live()) session.upstream.serverGone(server, 'the server was removed from the config');
    });
    downstreams.runtime.hooks = this.hooks();
    downstreams.runtime.clientCapabilities = () => unionOfClientCapabilities(this.declared());
  }

  get size(): number {
    return this.sessions.size;
  }

  /**
   * A new session on `transport`, its server connected before the transport handles the
   * client's `initialize` (whose capabilities count from now: a server that starts meanwhile is told them).
   */
  async open(id: string, transport: Transport, how: OpenOptions): Promise<void> {
    const { initialize, from } = how;
    const capabilities = (initialize as { params?: { capabilities?: ClientCapabilities } }).params?.capabilities ?? {};
    const session: Session = { id, since: Date.now(), from, capabilities };
    this.sessions.set(id, session);
    const upstream = new UpstreamServer(this.downstreams, this.log, {
      ...this.options,
      ...(await this.options.sessionOptions()),
      shared: { catalogs: this.catalogs, settings: this.settings.view(id), nextCallId: this.nextCallId },
    });
    const initialized = upstream.server.oninitialized;
    upstream.server.oninitialized = () => {
      initialized?.();
      const client = upstream.server.getClientVersion();
      this.log.info(`session ${id.slice(0, 8)} opened by ${client ? `${client.name} ${client.version}` : 'a client'}`);
      this.firstInitialized?.();
    };
    session.upstream = upstream;
    await upstream.connect(transport, how.writeRawLine);
  }

  /** Ends a session: its calls in flight are cancelled at their servers, its subscriptions ended where no other session holds them. */
  async close(id: string, why: string): Promise<void> {
    const session = this.sessions.get(id);
    if (!session) return;
    this.sessions.delete(id);
    if (session.upstream?.isInitialized) this.log.info(`session ${id.slice(0, 8)} ended (${why})`);
    session.upstream?.relay?.cancelAll(`the client's session ended (${why})`);
    for (const [elicitation, owner] of this.elicitations) if (owner === id) this.elicitations.delete(elicitation);
    await this.settings.drop(id);
    await session.upstream?.close().catch((error: unknown) => this.log.debug(`session ${id.slice(0, 8)}: close: ${errorMessage(error)}`));
  }

  async closeAll(why: string): Promise<void> {
    await Promise.all([...this.sessions.keys()].map((id) => this.close(id, why)));
  }

  /** Resolves when a first session has initialized (or after `ms` without one, when given). */
  initializedOrAfter(ms?: number): Promise<void> {
    if (this.clients().length) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(resolve, ms);
      this.firstInitialized = () => {
        clearTimeout(timer);
        this.firstInitialized = undefined;
        resolve();
      };
    });
  }

  /** The sessions' servers, in the order they connected (for a login URL shown in a client). */
  clients(): Server[] {
    return this.live()
      .filter((session) => session.upstream.isInitialized)
      .map((session) => session.upstream.server);
  }

  describe(): SessionInfo[] {
    return this.live()
      .filter((session) => session.upstream.isInitialized)
      .map(({ id, upstream, since, from }) => {
        const client = upstream.server.getClientVersion();
        const callsInFlight = this.downstreams.servers.reduce((sum, server) => sum + upstream.callsTo(server).length, 0);
        return {
          id: id.slice(0, 8),
          ...(client ? { client: `${client.name} ${client.version}` } : {}),
          connectedAt: new Date(since).toISOString(),
          ...(from ? { from } : {}),
          callsInFlight,
        };
      });
  }

  private declared(): ClientCapabilities[] {
    return [...this.sessions.values()].map((session) => session.capabilities);
  }

  /** The access rules changed: the lists are rebuilt once, and every session told what changed for it. */
  rulesChanged(): void {
    this.catalogs.rebuild();
    for (const session of this.live()) session.upstream.rulesChanged();
  }

  /** Sessions whose server exists (one opening may still wait for its options). */
  private live(): Array<Session & { upstream: UpstreamServer }> {
    return [...this.sessions.values()].filter(
      (session): session is Session & { upstream: UpstreamServer } => session.upstream !== undefined,
    );
  }

  private hooks(): DownstreamHooks {
    return {
      clientSetup: (downstream, client, declared) =>
        forwardClientRequests(
          client,
          declared,
          (capability, mode, what, params) => this.pick(downstream, capability, mode, what, params),
          downstream.name,
          this.log,
        ),
      onNotification: (downstream, notification) => this.route(downstream, notification),
      onReady: (downstream) => void this.settings.restore(downstream),
      intercept: (downstream, message) => {
        for (const session of this.sessions.values()) if (session.upstream?.relay?.fromServer(downstream, message)) return true;
        return false;
      },
      interceptRawLine: (downstream, line) => {
        for (const session of this.sessions.values()) if (session.upstream?.relay?.fromServerRawLine(downstream, line)) return true;
        return false;
      },
    };
  }

  /** The session that takes a server's request: see chooseSession. */
  private pick(downstream: Downstream, capability: ClientCapability, mode: string | undefined, what: string, params: unknown) {
    if (!this.catalogs.allowsWholeServer(downstream.name))
      throw new McpError(ErrorCode.MethodNotFound, `the gateway's access rules do not let ${downstream.name} reach the client`);
    const candidates: Candidate[] = [];
    for (const { id, upstream } of this.live()) {
      if (!upstream.isInitialized || !clientSupports(upstream.server.getClientCapabilities(), capability, mode)) continue;
      candidates.push({ session: id, calls: upstream.callsTo(downstream) });
    }
    const choice = chooseSession(candidates, this.attributed);
    if (!choice) {
      const kind = capability === 'elicitation' ? `${mode}-mode elicitation` : what;
      throw new McpError(ErrorCode.MethodNotFound, `no client connected to the gateway supports ${kind}`);
    }
    const live = new Set(candidates.flatMap((candidate) => candidate.calls.map((call) => call.id)));
    this.attributed = new Set([...this.attributed].filter((id) => live.has(id)));
    if (choice.call) this.attributed.add(choice.call.id);
    const elicitationId = (params as { elicitationId?: unknown } | undefined)?.elicitationId;
    if (mode === 'url' && typeof elicitationId === 'string') this.elicitations.set(elicitationId, choice.session);
    return { server: this.sessions.get(choice.session)!.upstream!.server, relatedRequestId: choice.call?.upstreamId };
  }

  /** A server's notification, to the sessions it concerns. */
  private route(downstream: Downstream, notification: Notification): void {
    const params = (notification.params ?? {}) as { level?: unknown; uri?: unknown; elicitationId?: unknown };
    let to = this.live().filter((session) => session.upstream.isInitialized);
    if (notification.method === 'notifications/message') to = to.filter((session) => this.settings.wants(session.id, params.level));
    if (notification.method === 'notifications/resources/updated' && typeof params.uri === 'string') {
      const holders = new Set(this.settings.holders(downstream, params.uri).map((holder) => holder.id));
      to = to.filter((session) => holders.has(session.id));
    }
    if (notification.method === 'notifications/elicitation/complete' && typeof params.elicitationId === 'string') {
      const owner = this.elicitations.get(params.elicitationId);
      this.elicitations.delete(params.elicitationId);
      to = to.filter((session) => session.id === owner);
    }
    for (const session of to) session.upstream.passNotification(downstream, notification);
  }
}
