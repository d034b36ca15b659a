import { EventEmitter } from 'node:events';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  ErrorCode,
  McpError,
  PromptListChangedNotificationSchema,
  ResourceListChangedNotificationSchema,
  ResultSchema,
  ToolListChangedNotificationSchema,
  type JSONRPCMessage,
  type ClientCapabilities,
  type Implementation,
  type Notification,
  type Prompt,
  type Resource,
  type ResourceTemplate,
  type ServerCapabilities,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { HttpServerConfig, ServerConfig } from '../config/types.js';
import type { ServerAuth } from '../oauth/serverAuth.js';
import type { TokenStore } from '../oauth/tokenStore.js';
import { redact } from '../log/redact.js';
import { VERSION } from '../version.js';
import { errorMessage, type Logger } from '../log/logger.js';
import type { CatalogCache } from './catalogCache.js';
import { describeState, isWorthWaitingFor, type DownstreamState } from './downstreamState.js';
import type * as HttpTransportModule from './httpTransport.js';
import { createStdioTransport, StderrTail } from './stdioTransport.js';

/** Failures that a later attempt may not meet: the server is retried slowly in the background. */
const RETRYABLE_AUTH_ERRORS = new Set(['TransientAuthError', 'LockTimeoutError']);
/** Failures of the login itself: reported as they are, never mistaken for a server that went away. */
const AUTH_ERRORS = new Set(['TransientAuthError', 'LockTimeoutError', 'OAuthFlowError', 'UnsafeAuthorizationServerError', 'LoginRequiredError', 'TokenStoreUnavailableError']);

export const CLIENT_INFO = { name: 'mcp-oauth-gateway', version: VERSION };
export const DEFAULT_CALL_TIMEOUT_MS = 60_000;

/** How HTTP servers log in: where tokens live and whether a browser may open. */
export interface AuthSettings {
  store: TokenStore;
  noBrowser?: boolean;
  headless?: boolean;
  callbackTimeoutMs?: number;
  /** Set by `serve`: shows a server's login URL in the MCP client (URL elicitation) when the client can. */
  presentLoginUrl?: (server: string, url: string) => boolean;
}

/**
 * First retry of a server whose authorization server was unreachable; doubles up to the cap.
 * (MCP_GATEWAY_RETRY_BASE_MS shortens it for the test suite.)
 */
const AUTH_RETRY_MIN_MS = Number(process.env.MCP_GATEWAY_RETRY_BASE_MS) || 30_000;
const AUTH_RETRY_MAX_MS = 5 * 60_000;

export interface DownstreamEvents {
  /** State, or one of its lists (tools, resources, prompts), changed. */
  changed: [];
}

/** Reconnecting a server that went away: 1 s, doubling, at most a minute, with jitter. */
const RECONNECT_BASE_MS = Number(process.env.MCP_GATEWAY_RECONNECT_BASE_MS) || 1000;
const RECONNECT_MAX_MS = 60_000;
/** Connected this long, a server that goes away is taken to have been healthy: its backoff starts over. */
const STABLE_AFTER_MS = 30_000;

/** What a downstream shares with the others, set where the gateway is composed (cli). */
export interface DownstreamRuntime {
  /** Each server's last catalog, for an instant warm start; absent: no cache. */
  cache?: CatalogCache;
  /**
   * What to tell each server its client can do (sampling, elicitation, roots): what the
   * gateway's own client declared, since the gateway only relays them. Absent: nothing.
   */
  clientCapabilities?: () => ClientCapabilities;
}

/**
 * One client for one configured server: connects (with a timeout), keeps its tool list,
 * routes calls to it, and reports its state. Never throws out of `connect`: a failure
 * becomes the `failed` state with a reason.
 */
export class Downstream extends EventEmitter<DownstreamEvents> {
  state: DownstreamState;
  tools: Tool[] = [];
  resources: Resource[] = [];
  resourceTemplates: ResourceTemplate[] = [];
  prompts: Prompt[] = [];
  /** What the server said of itself at `initialize` (live, or from the cache). */
  instructions?: string;
  serverInfo?: Implementation;
  /** Set while the lists are the cached ones (when they were saved); cleared once the server answers. */
  cachedAt?: number;
  /** Set by the gateway: prepares each new SDK client (handlers for the server's own requests it declared it can take). */
  clientSetup?: (client: Client, declared: ClientCapabilities) => void;
  /** Set by the gateway: the server's notifications it routes (log messages, resource updates). */
  onNotification?: (notification: Notification) => void;
  /** Set by the gateway: runs after every (re)connect, e.g. to restore subscriptions and the log level. */
  onReady?: () => void;
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
  /** Once ready, a server that goes away is reconnected rather than failed. */
  private everReady = false;
  private reconnectAttempts = 0;
  private resettingSession?: Promise<void>;
  /** The connection attempt under way: one at a time, whoever asks. */
  private connecting?: Promise<void>;

  constructor(
    readonly config: ServerConfig,
    private readonly log: Logger,
    readonly connectTimeoutMs: number,
    private readonly authSettings?: AuthSettings,
    private readonly runtime: DownstreamRuntime = {},
  ) {
    super();
    this.state = config.disabled ? { status: 'disabled' } : { status: 'connecting' };
    this.transportKind = config.kind === 'stdio' ? 'stdio' : config.transport;
    const cached = config.disabled ? undefined : runtime.cache?.load(config);
    if (cached) {
      Object.assign(this, { tools: cached.tools, prompts: cached.prompts, resources: cached.resources, resourceTemplates: cached.resourceTemplates });
      Object.assign(this, { instructions: cached.instructions, serverInfo: cached.serverInfo, cachedAt: cached.savedAt });
    }
  }

  /** Whether the lists shown are the cached ones (the server has not answered yet). */
  get fromCache(): boolean {
    return this.cachedAt !== undefined;
  }

  get name(): string {
    return this.config.name;
  }

  /** Connects, or joins the attempt under way. */
  connect(): Promise<void> {
    this.connecting ??= this.connectNow().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async connectNow(): Promise<void> {
    if (this.config.disabled || this.closed) return;
    clearTimeout(this.retryTimer);
    if (this.state.status !== 'reconnecting') this.setState({ status: 'connecting' });
    const started = Date.now();
    try {
      // Tokens are loaded and refreshed first: a slow authorization server is not a slow MCP server.
      await this.prepareAuth();
      try {
        await this.connectWithTimeout();
      } catch (error) {
        // A 401 (or a 403 asking for more scopes): log in (no connect timeout while the user is in the browser), then connect again.
        const status = httpTransports?.httpStatusOf(error);
        if (!this.auth || this.closed || !(status === 401 || (status === 403 && this.auth.takeStepUp()))) throw error;
        await this.logIn();
        await this.connectWithTimeout();
      }
      this.connectedAt = Date.now();
      this.transientFailures = 0;
      const wasReconnecting = this.state.status === 'reconnecting';
      this.everReady = true;
      this.log.info(`${wasReconnecting ? 'reconnected' : 'ready'}: ${this.tools.length} tools via ${this.transportKind} (${this.connectedAt - started} ms)`);
      this.setState({ status: 'ready' });
      this.onReady?.();
      void this.saveCatalog();
    } catch (error) {
      await this.client?.close().catch(() => {});
      this.client = undefined;
      if (this.closed) return;
      const reason = this.explainFailure(error);
      const refused = [401, 403].includes(httpTransports?.httpStatusOf(error) ?? 0);
      if (this.everReady && !refused && !AUTH_ERRORS.has((error as Error).name)) {
        this.connectionLost(reason);
        return;
      }
      if ((error as Error).name === 'LoginRequiredError') {
        // No login can start by itself now (headless, or the browser-tab limit): a call to the server starts one.
        const why = redact(errorMessage(error));
        this.log.warn(`needs a login: ${why}`);
        this.setState({ status: 'needs-auth', reason: why, loginInProgress: false });
        return;
      }
      this.log.warn(`failed: ${reason}`);
      this.dropLists();
      this.setState({ status: 'failed', reason });
      if (RETRYABLE_AUTH_ERRORS.has((error as Error).name)) this.scheduleRetry();
    }
  }

  /**
   * Waits until the server is ready (true), or until it can no longer get there by itself, time
   * runs out or `signal` aborts (false). A server that needs a login with none under way starts
   * one (never a second: logins and connection attempts are shared). Connecting waits up to
   * `startMs`; from the moment a login is under way, up to `loginMs`.
   */
  whenReady({ startMs, loginMs, signal }: { startMs: number; loginMs: number; signal?: AbortSignal }): Promise<boolean> {
    if (this.state.status === 'ready') return Promise.resolve(true);
    if (this.closed || !isWorthWaitingFor(this.state)) return Promise.resolve(false);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      let loginTimer = false;
      const arm = (ms: number) => {
        clearTimeout(timer);
        timer = setTimeout(() => done(false), ms);
      };
      const done = (ready: boolean) => {
        clearTimeout(timer);
        this.off('changed', check);
        signal?.removeEventListener('abort', aborted);
        resolve(ready);
      };
      const aborted = () => done(false);
      const check = () => {
        const state = this.state;
        if (state.status === 'ready') return done(true);
        const attempting = this.connecting !== undefined;
        if (this.closed || !isWorthWaitingFor(state) || (state.status === 'needs-auth' && !state.loginInProgress && !attempting)) return done(false);
        if (state.status === 'needs-auth' && state.loginInProgress && !loginTimer) {
          loginTimer = true;
          arm(loginMs);
        }
      };
      arm(this.state.status === 'needs-auth' && this.state.loginInProgress ? loginMs : startMs);
      loginTimer = this.state.status === 'needs-auth' && this.state.loginInProgress;
      this.on('changed', check);
      signal?.addEventListener('abort', aborted, { once: true });
      if (this.state.status === 'needs-auth' && !this.state.loginInProgress) void this.connect().then(check);
      check();
    });
  }

  /**
   * A server that was ready went away (its process exited, its HTTP endpoint stopped
   * answering): connect it again with exponential backoff and jitter, capped at a minute.
   * Meanwhile its tools stay listed and calls to it fail at once, saying so.
   */
  private connectionLost(reason: string): void {
    if (this.closed) return;
    const client = this.client;
    this.client = undefined;
    this.transport = undefined;
    void client?.close().catch(() => {});
    // A server that stayed up a while starts its backoff afresh; one that keeps dying soon after starting does not.
    if (this.state.status === 'ready' && this.connectedAt && Date.now() - this.connectedAt > STABLE_AFTER_MS) this.reconnectAttempts = 0;
    const attempt = ++this.reconnectAttempts;
    const ceiling = Math.min(RECONNECT_MAX_MS, RECONNECT_BASE_MS * 2 ** (attempt - 1));
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.log.warn(`${reason}; reconnecting in ${(delay / 1000).toFixed(1)} s (attempt ${attempt})`);
    this.setState({ status: 'reconnecting', reason, attempt, nextAttemptAt: Date.now() + delay });
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.connect(), delay);
    this.retryTimer.unref();
  }

  private dropLists(): void {
    this.tools = [];
    this.resources = [];
    this.resourceTemplates = [];
    this.prompts = [];
    this.cachedAt = undefined;
  }

  /** The live catalog, kept for the next start (rewritten only when it changed). */
  private async saveCatalog(): Promise<void> {
    if (!this.runtime.cache || this.state.status !== 'ready') return;
    const { tools, prompts, resources, resourceTemplates, instructions, serverInfo } = this;
    try {
      if (await this.runtime.cache.save(this.config, { tools, prompts, resources, resourceTemplates, instructions, serverInfo })) this.log.debug('catalog cache updated');
    } catch (error) {
      this.log.warn(`could not save the catalog cache (${errorMessage(error)}); the next start waits for this server`);
    }
  }

  /** What the server said it can do, while it is connected. */
  get capabilities(): ServerCapabilities | undefined {
    return this.client?.getServerCapabilities();
  }

  /**
   * Sends a request through the SDK client (everything but the relayed tools/call): with the
   * server's call timeout, reset by progress. An HTTP session the server forgot is opened
   * again and the request sent once more.
   */
  async request(request: { method: string; params?: Record<string, unknown> }, options: RequestOptions = {}): Promise<Record<string, unknown>> {
    const send = () => {
      const client = this.client;
      if (!client || this.state.status !== 'ready') {
        throw new McpError(ErrorCode.InternalError, `server "${this.name}" is not available (${describeState(this.state)})`);
      }
      return client.request(request as never, ResultSchema, {
        timeout: this.config.timeout ?? DEFAULT_CALL_TIMEOUT_MS,
        resetTimeoutOnProgress: true,
        ...options,
      });
    };
    try {
      return await send();
    } catch (error) {
      if (!this.isLostSession(error)) throw this.requestFailed(error);
      await this.resetSession();
      return send();
    }
  }

  /** Sends a notification to the server, if it is connected. */
  async notify(notification: Notification): Promise<void> {
    await this.client?.notification(notification as never).catch(() => {});
  }

  private isLostSession(error: unknown): boolean {
    return this.config.kind === 'http' && this.transportKind === 'streamable-http' && httpTransports?.httpStatusOf(error) === 404;
  }

  /** The server answered 404 for our session (it restarted, or expired it): initialize a new one, transparently. */
  private resetSession(): Promise<void> {
    this.resettingSession ??= (async () => {
      this.log.info('the server no longer knows this session (HTTP 404); opening a new one');
      const old = this.client;
      this.client = undefined;
      this.transport = undefined;
      await old?.close().catch(() => {});
      await this.connectWithTimeout();
      this.onReady?.();
    })().finally(() => {
      this.resettingSession = undefined;
    });
    return this.resettingSession;
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
      presentLoginUrl: (url) => this.authSettings!.presentLoginUrl?.(this.name, url) ?? false,
    });
    return this.auth;
  }

  private async connectWithTimeout(): Promise<void> {
    await withTimeout(this.connectOnce(), this.connectTimeoutMs, () => {
      void this.client?.close().catch(() => {});
      return `did not finish connecting within ${this.connectTimeoutMs} ms`;
    });
  }

  private async logIn(why = ''): Promise<void> {
    const auth = this.auth!;
    const reason = `${why}waiting for the login to finish in the browser`;
    this.setState({ status: 'needs-auth', reason, loginInProgress: true });
    const onUrl = (url: string) => this.setState({ status: 'needs-auth', reason, authorizationUrl: url, loginInProgress: true });
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
    this.dropLists();
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
  private async reauthenticate({ login = false } = {}): Promise<void> {
    if (this.reauthenticating || this.closed || !this.auth) return;
    this.reauthenticating = true;
    try {
      if (login) {
        try {
          await this.logIn('the server needs more permissions (insufficient_scope); ');
        } catch (error) {
          this.log.warn(`the login for more permissions failed: ${errorMessage(error)}`);
        }
      }
      const client = this.client;
      this.client = undefined;
      this.transport = undefined;
      this.dropLists();
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
    // Only what the gateway's client declared: a server must not offer what then fails with -32601.
    const declared = this.runtime.clientCapabilities?.() ?? {};
    const client = new Client(CLIENT_INFO, { capabilities: declared });
    this.client = client;
    client.onclose = () => this.onClientClosed(client);
    client.onerror = (error) => {
      this.log.debug(`transport error: ${errorMessage(error)}`);
      // A 401 on a request the SDK client made itself (the SSE stream, a tools/list) needs a login as much as a call's.
      if (this.client === client && this.state.status === 'ready' && httpTransports?.httpStatusOf(error) === 401) void this.reauthenticate();
    };
    client.fallbackNotificationHandler = async (notification) => this.onNotification?.(notification);
    this.clientSetup?.(client, declared);
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
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => this.refreshLists(['tools']));
    client.setNotificationHandler(ResourceListChangedNotificationSchema, () => this.refreshLists(['resources']));
    client.setNotificationHandler(PromptListChangedNotificationSchema, () => this.refreshLists(['prompts']));
    await this.loadLists(client, ['tools', 'resources', 'prompts']);
    this.instructions = client.getInstructions();
    this.serverInfo = client.getServerVersion();
    this.cachedAt = undefined;
  }

  /** Reads the server's lists (every page) for what it offers. */
  private async loadLists(client: Client, kinds: Array<'tools' | 'resources' | 'prompts'>): Promise<void> {
    const caps = client.getServerCapabilities() ?? {};
    const all = async <T>(method: string, key: string): Promise<T[]> => {
      const items: T[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.request({ method, params: cursor ? { cursor } : {} } as never, ResultSchema);
        items.push(...(((page as Record<string, unknown>)[key] as T[] | undefined) ?? []));
        cursor = (page as { nextCursor?: string }).nextCursor;
      } while (cursor);
      return items;
    };
    const jobs: Array<Promise<void>> = [];
    if (kinds.includes('tools')) jobs.push(caps.tools ? all<Tool>('tools/list', 'tools').then((v) => void (this.tools = v)) : Promise.resolve(void (this.tools = [])));
    if (kinds.includes('resources')) {
      jobs.push(caps.resources ? all<Resource>('resources/list', 'resources').then((v) => void (this.resources = v)) : Promise.resolve(void (this.resources = [])));
      jobs.push(
        caps.resources
          ? all<ResourceTemplate>('resources/templates/list', 'resourceTemplates').then((v) => void (this.resourceTemplates = v), () => void (this.resourceTemplates = []))
          : Promise.resolve(void (this.resourceTemplates = [])),
      );
    }
    if (kinds.includes('prompts')) jobs.push(caps.prompts ? all<Prompt>('prompts/list', 'prompts').then((v) => void (this.prompts = v)) : Promise.resolve(void (this.prompts = [])));
    await Promise.all(jobs);
  }

  private async refreshLists(kinds: Array<'tools' | 'resources' | 'prompts'>): Promise<void> {
    const client = this.client;
    if (!client || this.state.status !== 'ready') return;
    try {
      await this.loadLists(client, kinds);
      this.emit('changed');
      void this.saveCatalog();
    } catch (error) {
      this.log.warn(`could not refresh the ${kinds.join(' and ')} list: ${errorMessage(error)}`);
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
      this.connectionLost(reason);
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
      if (!this.isLostSession(error)) throw this.requestFailed(error);
      await this.resetSession();
      await this.transport!.send(message);
    }
  }

  /**
   * What a failed request (a relayed call, or one through the SDK client) means for the
   * connection, acted on: a new login (401), a login for more scopes (403), an authorization
   * server that cannot be reached or refuses (failed, retried slowly or not), a server that
   * went away (reconnecting). Returns the error to report for the request.
   */
  private requestFailed(error: unknown): unknown {
    const status = httpTransports?.httpStatusOf(error);
    if (status === 401) {
      void this.reauthenticate();
      return new Error('the server asked for a new login; logging in again (retry the call once it is ready)');
    }
    if (status === 403 && this.auth?.takeStepUp()) {
      void this.reauthenticate({ login: true });
      return new Error('the server needs more permissions for this; logging in again to grant them (retry the call once it is ready)');
    }
    const name = (error as Error).name;
    if (RETRYABLE_AUTH_ERRORS.has(name) || name === 'OAuthFlowError' || name === 'UnsafeAuthorizationServerError') {
      const retry = RETRYABLE_AUTH_ERRORS.has(name);
      this.authUnavailable(error as Error, retry);
      return new Error(`${redact(errorMessage(error))}${retry ? '; the gateway retries in the background' : ''}`);
    }
    const network = networkError(error);
    if (this.config.kind === 'http' && network) {
      const reason = this.explainFailure(network);
      if (this.state.status === 'ready') this.connectionLost(reason);
      return new Error(`${reason}; reconnecting`);
    }
    return error;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    await this.auth?.close(); // Also ends a login in progress: its listener, lock and page.
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

/** The failure of a request that never got an HTTP answer (refused, reset, unreachable), itself or as the cause of another error. */
function networkError(error: unknown): TypeError | undefined {
  const isNetwork = (candidate: unknown): candidate is TypeError =>
    candidate instanceof TypeError && /fetch failed/.test(candidate.message) && Boolean((candidate as { cause?: { code?: string } }).cause?.code);
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  return isNetwork(error) ? error : isNetwork(cause) ? cause : undefined;
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
