import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { SessionHub } from '../gateway/sessionHub.js';
import { errorMessage, type Logger } from '../log/logger.js';
import { clientAddress } from './forwarded.js';
import { sendJson } from './httpAnswers.js';
import { McpEndpoint } from './mcpEndpoint.js';
import { allowedOrigins, hostAllowed, isLoopbackHost, originAllowed, urlHost } from './requestGuards.js';

/** Who may call, decided per request; a refusal has been answered (401 with WWW-Authenticate) when it returns undefined. */
export interface FrontAuth {
  authorize(req: IncomingMessage, res: ServerResponse, path: string): Promise<AuthInfo | undefined> | AuthInfo | undefined;
  /** Requests for paths of its own (an authorization server's endpoints); true when it took the request. */
  route?(req: IncomingMessage, res: ServerResponse, path: string): boolean;
}

export interface FrontOptions {
  host: string;
  port: number;
  allowedOrigins: readonly string[];
  trustProxy: boolean;
  maxSessions: number;
  idleMs: number;
  /** Made once the listener's own origin (`http://HOST:PORT`) is known. */
  auth: (ownOrigin: string) => Promise<FrontAuth> | FrontAuth;
  /** What `GET /status` shows an authorized caller (the servers; the sessions are added). */
  status: () => Record<string, unknown>;
}

/** The serving process, for operators: its pid and memory. */
function processFacts(): Record<string, number> {
  const { rss, heapUsed } = process.memoryUsage();
  return { pid: process.pid, rssBytes: rss, heapUsedBytes: heapUsed, uptimeSeconds: Math.round(process.uptime()) };
}

const CORS_HEADERS = {
  'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
  'access-control-allow-headers': 'authorization, content-type, mcp-session-id, mcp-protocol-version, last-event-id',
  'access-control-expose-headers': 'mcp-session-id, www-authenticate',
  'access-control-max-age': '600',
};

/**
 * The gateway served over HTTP: `/mcp` (Streamable HTTP, see McpEndpoint), `/health` for
 * liveness, `/status` (sessions and servers, for `gateway list`), and whatever the auth adds.
 * Every request has its `Origin` checked (and, on a loopback listener, its `Host`) before
 * anything else; everything but `/health` and the auth's own paths needs authorization.
 */
export class HttpFront {
  readonly url: string;
  private readonly origins: Set<string>;
  private readonly checkHost: boolean;
  private readonly port: number;

  private auth?: FrontAuth;

  private constructor(
    private readonly server: HttpServer,
    private readonly endpoint: McpEndpoint,
    private readonly hub: SessionHub,
    private readonly log: Logger,
    private readonly options: FrontOptions,
    port: number,
  ) {
    this.url = `http://${urlHost(options.host)}:${port}/mcp`;
    this.origins = allowedOrigins(options.allowedOrigins, options.host, port);
    // Behind a trusted proxy the Host is the public name; the proxy is the one to check it.
    this.checkHost = isLoopbackHost(options.host) && !options.trustProxy;
    this.port = port;
  }

  static async start(hub: SessionHub, log: Logger, options: FrontOptions): Promise<HttpFront> {
    const endpoint = new McpEndpoint(hub, log, { maxSessions: options.maxSessions, idleMs: options.idleMs });
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => resolve());
    });
    const address = server.address();
    const front = new HttpFront(server, endpoint, hub, log, options, typeof address === 'object' && address ? address.port : options.port);
    try {
      front.auth = await options.auth(new URL(front.url).origin);
    } catch (error) {
      server.close();
      throw error;
    }
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      front.handle(req, res).catch((error: unknown) => {
        log.error(`HTTP ${req.method} ${req.url}: ${errorMessage(error)}`);
        if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
        else res.end();
      });
    });
    return front;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    if (!originAllowed(req, this.origins) || (this.checkHost && !hostAllowed(req, this.port))) {
      this.log.warn(
        `refused ${req.method} ${path} from ${clientAddress(req, this.options.trustProxy)}: Origin ${req.headers.origin ?? 'none'}, Host ${req.headers.host ?? 'none'} not allowed`,
      );
      return sendJson(res, 403, { error: 'forbidden', error_description: 'this Origin or Host is not allowed' });
    }
    const origin = req.headers.origin;
    if (origin) res.setHeader('access-control-allow-origin', origin).setHeader('vary', 'Origin');
    if (req.method === 'OPTIONS') return void res.writeHead(204, CORS_HEADERS).end();
    if (path === '/health' && req.method === 'GET') return sendJson(res, 200, { status: 'ok' });
    if (this.auth!.route?.(req, res, path)) return;
    if (path !== '/mcp' && path !== '/status') return sendJson(res, 404, { error: 'not found' });
    const auth = await this.auth!.authorize(req, res, path);
    if (!auth) return;
    if (path === '/status') return sendJson(res, 200, { ...this.options.status(), sessions: this.hub.describe(), process: processFacts() });
    (req as IncomingMessage & { auth?: AuthInfo }).auth = auth;
    await this.endpoint.handle(req, res, clientAddress(req, this.options.trustProxy));
  }

  async close(): Promise<void> {
    await this.endpoint.closeAll();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
