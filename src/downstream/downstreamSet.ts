import { EventEmitter } from 'node:events';
import type { GatewayConfig } from '../config/types.js';
import type { Logger } from '../log/logger.js';
import { Downstream, type AuthSettings } from './downstream.js';

/**
 * All configured downstreams. Connects them in parallel; each one's failure stays its own.
 * Emits `changed` whenever any server's state or tools change.
 */
export class DownstreamSet extends EventEmitter<{ changed: [] }> {
  readonly servers: Downstream[];
  private readonly byName = new Map<string, Downstream>();

  constructor(config: GatewayConfig, log: Logger, auth?: AuthSettings) {
    super();
    this.servers = config.servers.map((server) => new Downstream(server, log.child(server.name), config.gateway.connectTimeout, auth));
    for (const server of this.servers) {
      this.byName.set(server.name, server);
      server.on('changed', () => this.emit('changed'));
    }
  }

  get(name: string): Downstream | undefined {
    return this.byName.get(name);
  }

  /** Starts every connection; resolves when all have settled (ready or failed). */
  connectAll(): Promise<void> {
    return Promise.all(this.servers.map((server) => server.connect())).then(() => undefined);
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.servers.map((server) => server.close()));
  }
}
