import { EventEmitter } from 'node:events';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  ToolListChangedNotificationSchema,
  type JSONRPCMessage,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { HttpServerConfig, ServerConfig } from '../config/types.js';
import type { ServerAuth } from '../oauth/serverAuth.js';
import type { TokenStore } from '../oauth/tokenStore.js';
import { redact } from '../log/redact.js';
import { VERSION } from '../version.js';
import { errorMessage, type Logger } from '../log/logger.js';
import { describeState, type DownstreamState } from './downstreamState.js';
import type * as HttpTransportModule from './httpTransport.js';
import { createStdioTransport, StderrTail } from './stdioTransport.js';

/** Failures that a later attempt may not meet: the server is retried slowly in the background. */
const RETRYABLE_AUTH_ERRORS = new Set(['TransientAuthError', 'LockTimeoutError']);

export const CLIENT_INFO = { name: 'mcp-oauth-gateway', version: VERSION };
export const DEFAULT_CALL_TIMEOUT_MS = 60_000;

/** How HTTP servers log in: where tokens live and whether a browser may open. */
export interface AuthSettings {
  store: TokenStore;
  noBrowser?: boolean;
  headless?: boolean;
  callbackTimeoutMs?: number;
}

/**
 * First retry of a server whose authorization server was unreachable; doubles up to the cap.
 * (MCP_GATEWAY_RETRY_BASE_MS shortens it for the test suite.)
 */
const AUTH_RETRY_MIN_MS = Number(process.env.MCP_GATEWAY_RETRY_BASE_MS) || 30_000;
const AUTH_RETRY_MAX_MS = 5 * 60_000;

export interface DownstreamEvents {
  /** State or tool list changed. */
  changed: [];
}

/**
 * One client for one configured server: connects (with a timeout), keeps its tool list,
 * routes calls to it, and reports its state. Never throws out of `connect`: a failure
 * becomes the `failed` state with a reason.
 */
export class Downstream extends EventEmitter<DownstreamEvents> {
  state: DownstreamState;
  tools: Tool[] = [];
  /** The transport actually in use once ready (`sse` after a fallback). */
  transportKind: 'stdio' | 'streamable-http' | 'sse';
  /**
   * Set by the gateway: sees every message from this server before the SDK client does,
   * and returns true for those it takes (the answers to calls it relayed).
   */
  interceptor?: (message: JSONRPCMessage) => boolean;
  /** Like `interceptor`, for large lines from a stdio server, before they are parsed. */
  rawLineInterceptor?: (line: string) => boolean;
  private client?: Client;
  private transport?: Transport;
  private readonly stderrTail = new StderrTail();
  private closed = false;
  private connectedAt?: number;
  /** The server's OAuth state (HTTP servers only, created on first connect). */
  auth?: ServerAuth;
  private reauthenticating = false;
  private retryTimer?: NodeJS.Timeout;
  private transientFailures = 0;

  constructor(
    readonly config: ServerConfig,
    private readonly log: Logger,
    private readonly connectTimeoutMs: number,
    private readonly authSettings?: AuthSettings,
  ) {
    super();
    this.state = config.disabled ? { status: 'disabled' } : { status: 'connecting' };
    this.transportKind = config.kind === 'stdio' ? 'stdio' : config.transport;
  }

  get name(): string {
    return this.config.name;
  }

  async connect(): Promise<void> {
    if (this.config.disabled || this.closed) return;
    clearTimeout(this.retryTimer);
    this.setState({ status: 'connecting' });
    const started = Date.now();
    try {
      // Tokens are loaded and refreshed first: a slow authorization server is not a slow MCP server.
      await this.prepareAuth();
      try {
        await this.connectWithTimeout();
      } catch (error) {
        // A 401: log in (no connect timeout while the user is in the browser), then connect again.
        if (!this.auth || httpTransports?.httpStatusOf(error) !== 401 || this.closed) throw error;
        await this.logIn();
        await this.connectWithTimeout();
      }
      this.connectedAt = Date.now();
      this.transientFailures = 0;
      this.log.info(`ready: ${this.tools.length} tools via ${this.transportKind} (${this.connectedAt - started} ms)`);
      this.setState({ status: 'ready' });
    } catch (error) {
      await this.client?.close().catch(() => {});
      this.client = undefined;
      if (this.closed) return;
      const reason = this.explainFailure(error);
      this.log.warn(`failed: ${reason}`);
      this.setState({ status: 'failed', reason });
      if (RETRYABLE_AUTH_ERRORS.has((error as Error).name)) this.scheduleRetry();
    }
  }

  private async prepareAuth(): Promise<void> {
    const config = this.config;
    if (config.kind !== 'http' || !this.authSettings) return;
    const auth = await this.ensureAuth(config);
    // Logins from earlier runs and other processes are picked up at every (re)connect.
    await auth.reload();
    await auth.ensureFresh();
  }

  private async ensureAuth(config: HttpServerConfig): Promise<ServerAuth> {
    const http = await loadHttpTransports();
    this.auth ??= http.createServerAuth({
      name: this.name,
      url: config.url,
      oauth: config.oauth,
      store: this.authSettings!.store,
      log: this.log,
      noBrowser: this.authSettings!.noBrowser,
      headless: this.authSettings!.headless,
      callbackTimeoutMs: this.authSettings!.callbackTimeoutMs,
    });
    return this.auth;
  }

  private async connectWithTimeout(): Promise<void> {
    await withTimeout(this.connectOnce(), this.connectTimeoutMs, () => {
      void this.client?.close().catch(() => {});
      return `did not finish connecting within ${this.connectTimeoutMs} ms`;
    });
  }

  private async logIn(): Promise<void> {
    const auth = this.auth!;
    this.setState({ status: 'needs-auth', reason: 'waiting for the login to finish in the browser' });
    const onUrl = (url: string) => this.setState({ status: 'needs-auth', reason: 'waiting for the login to finish in the browser', authorizationUrl: url });
    auth.on('login-url', onUrl);
    try {
      await auth.login();
    } finally {
      auth.off('login-url', onUrl);
    }
  }

  /** A refresh failed for good on a live connection (the authorization server is down): failed until a slow retry succeeds. */
  private authUnavailable(error: Error, retry: boolean): void {
    if (this.state.status !== 'ready' || this.closed) return;
    const client = this.client;
    this.client = undefined;
    this.transport = undefined;
    this.tools = [];
    void client?.close().catch(() => {});
    const reason = `${redact(errorMessage(error))}${retry ? '; retrying in the background' : ''}`;
    this.log.warn(`failed: ${reason}`);
    this.setState({ status: 'failed', reason });
    if (retry) this.scheduleRetry();
  }

  /** The authorization server could not be reached: try again slowly (30 s, doubling to 5 min), never in a storm. */
  private scheduleRetry(): void {
    const delay = Math.min(AUTH_RETRY_MAX_MS, AUTH_RETRY_MIN_MS * 2 ** this.transientFailures++);
    this.log.info(`will try again in ${Math.round(delay / 1000)} s`);
    this.retryTimer = setTimeout(() => void this.connect(), delay);
    this.retryTimer.unref();
  }

  /** A 401 on a live connection that a refresh could not cure: log in again, then reconnect. */
  private async reauthenticate(): Promise<void> {
    if (this.reauthenticating || this.closed || !this.auth) return;
    this.reauthenticating = true;
    try {
      const client = this.client;
      this.client = undefined;
      this.transport = undefined;
      this.tools = [];
      await client?.close().catch(() => {});
      this.log.warn('the server no longer accepts the login; logging in again');
      await this.connect();
    } finally {
      this.reauthenticating = false;
    }
  }

  private async connectOnce(): Promise<void> {
    const config = this.config;
    if (config.kind === 'stdio') {
      const transport = createStdioTransport(config, this.log, this.stderrTail);
      transport.lineBuffer.rawLineHandler = (line) => this.rawLineInterceptor?.(line) ?? false;
      await this.connectWith(transport);
      return;
    }
    // HTTP support (undici, the SDK's HTTP transports, OAuth) is loaded only when a server needs it.
    const http = await loadHttpTransports();
    const options = await this.httpOptions(http, config);
    if (config.transport === 'sse') {
      await this.connectWith(http.createSseTransport(config, options));
      return;
    }
    try {
      await this.connectWith(http.createStreamableHttpTransport(config, options));
    } catch (error) {
      if (!http.shouldFallBackToSse(error) || this.closed) throw error;
      this.log.info(`Streamable HTTP refused (${errorMessage(error)}); trying the older HTTP+SSE transport`);
      this.transportKind = 'sse';
      await this.connectWith(http.createSseTransport(config, options));
    }
  }

  private async httpOptions(http: typeof HttpTransportModule, config: HttpServerConfig): Promise<HttpTransportModule.HttpTransportOptions> {
    if (!this.authSettings) return {};
    const auth = await this.ensureAuth(config);
    return { wrapFetch: (base) => auth.authorizedFetch(base) };
  }

  private async connectWith(transport: Transport): Promise<void> {
    const client = new Client(CLIENT_INFO, { capabilities: {} });
    this.client = client;
    client.onclose = () => this.onClientClosed(client);
    client.onerror = (error) => {
      this.log.debug(`transport error: ${errorMessage(error)}`);
      // A 401 on a request the SDK client made itself (the SSE stream, a tools/list) needs a login as much as a call's.
      if (this.client === client && this.state.status === 'ready' && httpTransports?.httpStatusOf(error) === 401) void this.reauthenticate();
    };
    await client.connect(transport);
    const protocolOnMessage = transport.onmessage;
    transport.onmessage = (message, extra) => {
      if (this.interceptor?.(message)) return;
      protocolOnMessage?.(message, extra);
    };
    this.transport = transport;
    if (this.closed) {
      await client.close();
      throw new Error('gateway is shutting down');
    }
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => this.refreshTools());
    this.tools = await this.listAllTools(client);
  }

  private async listAllTools(client: Client): Promise<Tool[]> {
    if (!client.getServerCapabilities()?.tools) return [];
    const tools: Tool[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor ? { cursor } : undefined);
      tools.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor);
    return tools;
  }

  private async refreshTools(): Promise<void> {
    const client = this.client;
    if (!client || this.state.status !== 'ready') return;
    try {
      this.tools = await this.listAllTools(client);
      this.emit('changed');
    } catch (error) {
      this.log.warn(`could not refresh the tool list: ${errorMessage(error)}`);
    }
  }

  private onClientClosed(client: Client): void {
    if (this.client !== client || this.closed) return;
    this.client = undefined;
    this.transport = undefined;
    if (this.state.status === 'ready') {
      const last = this.stderrTail.last();
      const reason = this.config.kind === 'stdio'
        ? `process exited${last ? ` (last stderr: ${last})` : ''}`
        : 'connection closed by the server';
      this.log.error(`disconnected: ${reason}`);
      this.tools = [];
      this.setState({ status: 'failed', reason });
    }
  }

  /** Sends a message to the server as it is: the per-call relay's path, bypassing the SDK client. */
  async send(message: JSONRPCMessage): Promise<void> {
    const transport = this.transport;
    if (!transport || this.state.status !== 'ready') {
      throw new Error(`server "${this.name}" is not ready (${describeState(this.state)})`);
    }
    try {
      await transport.send(message);
    } catch (error) {
      if (httpTransports?.httpStatusOf(error) === 401) {
        void this.reauthenticate();
        throw new Error('the server asked for a new login; logging in again (retry the call once it is ready)');
      }
      const name = (error as Error).name;
      if (RETRYABLE_AUTH_ERRORS.has(name) || name === 'OAuthFlowError' || name === 'UnsafeAuthorizationServerError') {
        const retry = RETRYABLE_AUTH_ERRORS.has(name);
        this.authUnavailable(error as Error, retry);
        throw new Error(`${redact(errorMessage(error))}${retry ? '; the gateway retries in the background' : ''}`);
      }
      throw error;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    await this.auth?.close();
    const client = this.client;
    this.client = undefined;
    this.transport = undefined;
    await client?.close().catch(() => {});
  }

  private setState(state: DownstreamState): void {
    this.state = state;
    this.emit('changed');
  }

  private explainFailure(error: unknown): string {
    const message = errorMessage(error);
    if (this.config.kind === 'stdio') {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return `command not found: ${this.config.command} (check "command" and PATH)`;
      if (code === 'EACCES') return `command not executable: ${this.config.command}`;
      const last = this.stderrTail.last();
      if (/Connection closed/i.test(message)) {
        return `process exited during start${last ? ` (last stderr: ${last})` : ''}`;
      }
      return last ? `${message} (last stderr: ${last})` : message;
    }
    if (httpTransports?.httpStatusOf(error) === 401) {
      return 'the server requires an OAuth login (HTTP 401) and none succeeded';
    }
    if (error instanceof Error && /Error$/.test(error.name) && ['OAuthFlowError', 'UnsafeAuthorizationServerError', 'TransientAuthError', 'LoginRequiredError', 'LockTimeoutError', 'CallbackPortInUseError'].includes(error.name)) {
      return `login failed: ${redact(message)}`;
    }
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    if (cause?.code === 'ECONNREFUSED') return `cannot reach ${this.config.url}: connection refused (is the server running?)`;
    if (cause?.code === 'ENOTFOUND') return `cannot reach ${this.config.url}: host not found`;
    if (cause?.message && /fetch failed/.test(message)) return `cannot reach ${this.config.url}: ${cause.message}`;
    return message;
  }
}

let httpTransports: typeof HttpTransportModule | undefined;
async function loadHttpTransports(): Promise<typeof HttpTransportModule> {
  httpTransports ??= await import('./httpTransport.js');
  return httpTransports;
}

async function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(onTimeout())), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
