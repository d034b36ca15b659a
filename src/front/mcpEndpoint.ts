import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { SessionHub } from '../gateway/sessionHub.js';
import { errorMessage, type Logger } from '../log/logger.js';
import { GatewayError } from '../shared/errors.js';
import { SessionEventStore } from './eventStore.js';
import { readJsonBody, sendRpcError } from './httpAnswers.js';

export const DEFAULT_MAX_SESSIONS = 100;
export const DEFAULT_SESSION_IDLE_MS = 30 * 60_000;

interface Entry {
  transport: StreamableHTTPServerTransport;
  /** HTTP requests of the session still open (a GET stream among them). */
  open: number;
  lastSeen: number;
  /** Who opened it (the OAuth user, or the local token's owner): only they may use it. */
  principal: string;
}

/** Who a request is from, as far as sessions are concerned. */
const principalOf = (auth: AuthInfo | undefined) => String(auth?.extra?.user ?? auth?.clientId ?? 'local');

/**
 * `/mcp`: Streamable HTTP with sessions
 * (https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#streamable-http).
 * An `initialize` without a session opens one (the SDK's transport, resumable through an
 * event store, with its own MCP server from the SessionHub); POST, GET and DELETE with an
 * `Mcp-Session-Id` go to that session's transport; an unknown id is a 404, so the client
 * starts a new session. Sessions are bounded in number, and one that has had no request and
 * no open stream for the idle timeout is ended.
 */
export class McpEndpoint {
  private readonly sessions = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly hub: SessionHub,
    private readonly log: Logger,
    private readonly limits: { maxSessions: number; idleMs: number },
    private readonly now: () => number = Date.now,
  ) {
    this.sweeper = setInterval(() => this.sweep(), Math.min(60_000, limits.idleMs));
    this.sweeper.unref();
  }

  async handle(req: IncomingMessage & { auth?: AuthInfo }, res: ServerResponse, from: string): Promise<void> {
    const sessionId = req.headers['mcp-session-id'];
    if (typeof sessionId === 'string') {
      const entry = this.sessions.get(sessionId);
      // Another user's session is, to this one, no session at all.
      if (!entry || entry.principal !== principalOf(req.auth))
        return sendRpcError(res, 404, -32001, 'Session not found: start a new one with initialize');
      return this.serve(entry, req, res);
    }
    if (req.method !== 'POST') return sendRpcError(res, 400, -32000, 'Bad Request: Mcp-Session-Id header is required');
    const body = await readJsonBody(req);
    if (!('value' in body)) return sendRpcError(res, body.status, body.status === 413 ? -32000 : -32700, body.message);
    if (!isInitializeRequest(body.value))
      return sendRpcError(res, 400, -32600, 'Bad Request: no Mcp-Session-Id; a session starts with an initialize request');
    if (this.sessions.size >= this.limits.maxSessions) {
      this.log.warn(`refused a new session from ${from}: ${this.sessions.size} sessions open (gateway.http.maxSessions)`);
      return sendRpcError(res, 503, -32000, 'Too many sessions; try again later', { 'retry-after': '30' });
    }
    await this.open(req, res, body.value, from);
  }

  private async open(req: IncomingMessage & { auth?: AuthInfo }, res: ServerResponse, body: unknown, from: string): Promise<void> {
    const id = randomUUID();
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => id,
      eventStore: new SessionEventStore(this.now),
      onsessionclosed: () => void this.end(id, 'the client ended it'),
    });
    transport.onclose = () => void this.end(id, 'its transport closed');
    transport.onerror = (error) => this.log.debug(`session ${id.slice(0, 8)}: ${errorMessage(error)}`);
    const entry: Entry = { transport, open: 0, lastSeen: this.now(), principal: principalOf(req.auth) };
    this.sessions.set(id, entry);
    try {
      try {
        await this.hub.open(id, transport, { initialize: body, from });
      } catch (error) {
        // The gateway's own refusal (a bridged server not ready) is the client's to hear; anything else is a bug.
        if (!(error instanceof GatewayError)) throw error;
        this.log.warn(`refused a new session from ${from}: ${error.message}`);
        return sendRpcError(res, 503, -32000, error.message, { 'retry-after': '5' });
      }
      await this.serve(entry, req, res, body);
    } finally {
      // An initialize the transport refused (a bad protocol header, say) opened nothing.
      if (transport.sessionId === undefined) await this.end(id, 'its initialize was refused');
    }
  }

  private async serve(entry: Entry, req: IncomingMessage, res: ServerResponse, body?: unknown): Promise<void> {
    entry.open++;
    entry.lastSeen = this.now();
    res.once('close', () => {
      entry.open--;
      entry.lastSeen = this.now();
    });
    await entry.transport.handleRequest(req, res, body);
  }

  private async end(id: string, why: string): Promise<void> {
    const entry = this.sessions.get(id);
    if (!entry) return;
    this.sessions.delete(id);
    await this.hub.close(id, why);
    await entry.transport.close().catch((error: unknown) => this.log.debug(`session ${id.slice(0, 8)}: close: ${errorMessage(error)}`));
  }

  /** Sessions whose client went away without ending them (no request, no open stream, for the idle timeout). */
  sweep(): void {
    const idleSince = this.now() - this.limits.idleMs;
    for (const [id, entry] of this.sessions) {
      if (entry.open <= 0 && entry.lastSeen < idleSince)
        void this.end(id, `no request for ${Math.round(this.limits.idleMs / 1000)} s (gateway.http.sessionIdleTimeout)`);
    }
  }

  async closeAll(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.all([...this.sessions.keys()].map((id) => this.end(id, 'the gateway is stopping')));
  }
}
