import { randomUUID } from 'node:crypto';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { DownstreamSet } from '../downstream/downstreamSet.js';
import { errorMessage, type Logger } from '../log/logger.js';

/**
 * Brings a server's login to the user through their MCP client: when the client declared
 * URL-mode elicitation (MCP 2025-11-25), a login URL becomes an `elicitation/create` in URL
 * mode with a one-line reason, completed (`notifications/elicitation/complete`) once the
 * server is logged in or its login failed. A client without that capability is never sent one.
 */
export class LoginElicitation {
  private readonly pending = new Map<string, { elicitationId: string; client: Server }>();

  constructor(
    /** The clients that may be asked, first choice first (over stdio the one; over HTTP every session). */
    private readonly clients: () => Iterable<Server>,
    private readonly downstreams: DownstreamSet,
    private readonly log: Logger,
  ) {
    downstreams.on('changed', () => this.settle());
  }

  /** Whether a client was asked to open `url` (then the gateway opens no browser itself). */
  present(serverName: string, url: string): boolean {
    const client = [...this.clients()].find(
      (candidate) => (candidate.getClientCapabilities()?.elicitation as { url?: object } | undefined)?.url,
    );
    if (!client) return false;
    const elicitationId = randomUUID();
    this.pending.set(serverName, { elicitationId, client });
    client
      .elicitInput({ mode: 'url', message: `Log in to ${serverName} to use its tools`, url, elicitationId }, { timeout: 24 * 3600_000 })
      .then((result) => {
        if (result.action !== 'accept')
          this.log.info(`${serverName}: the user ${result.action === 'decline' ? 'declined' : 'dismissed'} the login in the client`);
      })
      .catch((error: unknown) => this.log.debug(`${serverName}: login elicitation: ${errorMessage(error)}`));
    return true;
  }

  /** A login that is over (ready, or failed) completes its elicitation. */
  private settle(): void {
    for (const [name, { elicitationId, client }] of this.pending) {
      const server = this.downstreams.get(name);
      if ((server?.state.status === 'needs-auth' && server.state.loginInProgress) || server?.state.status === 'connecting') continue;
      this.pending.delete(name);
      void client
        .notification({ method: 'notifications/elicitation/complete', params: { elicitationId } })
        .catch((error: unknown) => this.log.debug(`${name}: elicitation/complete not sent: ${errorMessage(error)}`));
    }
  }
}
