import { EventEmitter } from 'node:events';
import type { GatewayConfig, ServerConfig } from '../config/types.js';
import type { Logger } from '../log/logger.js';
import { Downstream } from './downstream.js';
import type { DownstreamRuntime } from './downstreamRuntime.js';

export interface ConfigChanges {
  added: string[];
  removed: string[];
  restarted: string[];
}

/**
 * All configured downstreams. Connects them in parallel; each one's failure stays its own.
 * Emits `changed` whenever any server's state or lists change, and `added` for a server
 * that joins (at a config reload). `servers` is one array, updated in place.
 */
export class DownstreamSet extends EventEmitter<{ changed: []; added: [Downstream]; removed: [Downstream] }> {
  readonly servers: Downstream[] = [];
  private connectTimeout: number;

  constructor(
    config: GatewayConfig,
    private readonly log: Logger,
    /** Shared by every server, also those a config reload adds. */
    readonly runtime: DownstreamRuntime = {},
  ) {
    super();
    this.connectTimeout = config.gateway.connectTimeout;
    for (const server of config.servers) this.servers.push(this.create(server));
  }

  private create(config: ServerConfig): Downstream {
    const server = new Downstream(config, this.log.child(config.name), this.connectTimeout, this.runtime);
    server.on('changed', () => this.emit('changed'));
    return server;
  }

  get(name: string): Downstream | undefined {
    return this.servers.find((server) => server.name === name);
  }

  /**
   * Starts every connection; resolves when all have settled (ready or failed). One server is
   * started per turn of the event loop: spawning is synchronous, and thirty spawns in a row
   * would hold up the client's requests (its first tools/list among them) meanwhile.
   */
  async connectAll(): Promise<void> {
    const connecting: Array<Promise<void>> = [];
    for (const server of [...this.servers]) {
      connecting.push(server.connect());
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(connecting);
  }

  /**
   * A new config while serving: servers that are new connect, servers that are gone are
   * closed, servers whose entry changed are restarted; the others are not touched.
   */
  apply(config: GatewayConfig): Promise<ConfigChanges> {
    // One reload at a time: two quick edits apply in order, never interleaved.
    const next = this.applying.then(() => this.applyNow(config));
    this.applying = next.catch(() => undefined);
    return next;
  }

  private applying: Promise<unknown> = Promise.resolve();

  private async applyNow(config: GatewayConfig): Promise<ConfigChanges> {
    this.connectTimeout = config.gateway.connectTimeout;
    const changes: ConfigChanges = { added: [], removed: [], restarted: [] };
    const wanted = new Map(config.servers.map((server) => [server.name, server]));
    const starting: Downstream[] = [];
    for (const server of [...this.servers]) {
      const next = wanted.get(server.name);
      if (!next) {
        this.servers.splice(this.servers.indexOf(server), 1);
        changes.removed.push(server.name);
        this.emit('removed', server);
        await server.close();
      } else if (JSON.stringify(next) !== JSON.stringify(server.config)) {
        const replacement = this.create(next);
        this.servers[this.servers.indexOf(server)] = replacement;
        changes.restarted.push(server.name);
        this.emit('removed', server);
        await server.close();
        this.emit('added', replacement);
        starting.push(replacement);
      }
    }
    for (const next of config.servers) {
      if (this.get(next.name)) continue;
      const server = this.create(next);
      this.servers.push(server);
      changes.added.push(next.name);
      this.emit('added', server);
      starting.push(server);
    }
    this.emit('changed');
    // Connections start here; the next reload need not wait for them.
    void Promise.all(starting.map((server) => server.connect()));
    return changes;
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.servers.map((server) => server.close()));
  }
}
