import type { LoggingLevel } from '@modelcontextprotocol/sdk/types.js';
import type { Downstream } from '../downstream/downstream.js';
import { errorMessage, type Logger } from '../log/logger.js';

export interface Subscription {
  server: Downstream;
  /** The URI on the server's side. */
  uri: string;
}

/** What one client's requests change: its log level and its subscriptions (see ClientSettings, and SessionSettings for many clients). */
export interface ClientSettingsView {
  /** `logging/setLevel`: applied to every ready server now, and to each as it connects. */
  setLogLevel(level: LoggingLevel, servers: readonly Downstream[]): Promise<void>;
  subscribed(clientUri: string, subscription: Subscription): void;
  /** The client ended a subscription; true when the server's own must end too (no other client holds it). */
  unsubscribed(clientUri: string): boolean;
  /** Subscriptions to servers the client may no longer reach are forgotten. */
  forgetUnless(allowed: (server: string) => boolean): void;
}

/**
 * What the client set up that every server must be told again whenever it (re)connects: its
 * logging level and its resource subscriptions (by the URI the client knows).
 */
export class ClientSettings implements ClientSettingsView {
  private logLevel?: LoggingLevel;
  private readonly subscriptions = new Map<string, Subscription>();

  constructor(private readonly log: Logger) {}

  /** `logging/setLevel`: applied to every ready server now, and to each as it connects. */
  async setLogLevel(level: LoggingLevel, servers: readonly Downstream[]): Promise<void> {
    this.logLevel = level;
    await Promise.all(servers.map((server) => this.applyLogLevel(server)));
  }

  subscribed(clientUri: string, subscription: Subscription): void {
    this.subscriptions.set(clientUri, subscription);
  }

  unsubscribed(clientUri: string): boolean {
    this.subscriptions.delete(clientUri);
    return true;
  }

  /** Subscriptions to servers the client may no longer reach are forgotten. */
  forgetUnless(allowed: (server: string) => boolean): void {
    for (const [uri, { server }] of this.subscriptions) if (!allowed(server.name)) this.subscriptions.delete(uri);
  }

  /** After a (re)connect: the log level and the subscriptions on that server. */
  async restore(server: Downstream): Promise<void> {
    await this.applyLogLevel(server);
    for (const subscription of this.subscriptions.values()) {
      if (subscription.server.name !== server.name) continue;
      subscription.server = server; // A server restarted by a config edit is a new object.
      await server
        .request({ method: 'resources/subscribe', params: { uri: subscription.uri } })
        .catch((error: unknown) =>
          this.log.warn(`${server.name}: could not restore the subscription to ${subscription.uri}: ${errorMessage(error)}`),
        );
    }
  }

  private async applyLogLevel(server: Downstream): Promise<void> {
    if (!this.logLevel || server.state.status !== 'ready' || !server.capabilities?.logging) return;
    await server
      .request({ method: 'logging/setLevel', params: { level: this.logLevel } })
      .catch((error: unknown) => this.log.debug(`${server.name}: logging/setLevel failed: ${errorMessage(error)}`));
  }
}
