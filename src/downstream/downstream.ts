import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { JSONRPCMessage, Notification, ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';
import type { ServerConfig } from '../config/types.js';
import { errorMessage, type Logger } from '../log/logger.js';
import { redact } from '../log/redact.js';
import type { ServerAuth } from '../oauth/serverAuth.js';
import { settled } from '../shared/bestEffort.js';
import { ConnectTimeoutError } from '../shared/errors.js';
import { withTimeout } from '../shared/withTimeout.js';
import { explainClose, explainFailure, failureCode, isAuthError, isLoginRequired, isRetryableAuthError } from './downstreamFailures.js';
import { DownstreamCatalog } from './downstreamCatalog.js';
import { DownstreamLogin } from './downstreamLogin.js';
import type { DownstreamRuntime } from './downstreamRuntime.js';
import { describeState } from './downstreamState.js';
import { httpStatusOf, loadHttpTransports } from './httpSupport.js';
import { openConnection, type Connection, type ConnectionHandlers, type TransportKind } from './openConnection.js';
import { RequestPath, type RequestPathOwner } from './requestPath.js';
import { authRetryDelay, reconnectDelay, STABLE_AFTER_MS } from './retryPolicy.js';
import { fetchLists, type ListKind } from './serverLists.js';
import { StderrTail } from './stdioTransport.js';
import { StepUp, type StepUpHold } from './stepUp.js';
import { waitUntilReady, type ReadyWait } from './waitUntilReady.js';

export { DEFAULT_CALL_TIMEOUT_MS } from './downstreamRuntime.js';
export type { AuthSettings, DownstreamHooks, DownstreamRuntime } from './downstreamRuntime.js';
export type { StepUpHold } from './stepUp.js';

/**
 * One client for one configured server: connects (with a timeout), keeps its lists, routes
 * requests to it, and reports its state (the transitions are in downstreamState.ts). Never
 * throws out of `connect`: a failure becomes a state with a reason. The lists are the
 * server's live ones once ready; before that, those of the catalog cache (`fromCache`),
 * dropped when it fails.
 */
export class Downstream extends DownstreamCatalog {
  /** The transport actually in use once ready (`sse` after a fallback). */
  transportKind: TransportKind;
  /** The OAuth side (HTTP servers with a token store only). */
  private readonly login?: DownstreamLogin;
  /** Requests refused with 403 insufficient_scope wait here for a login for more permissions. */
  private readonly stepUp?: StepUp;
  private readonly requests: RequestPath;
  private connection?: Connection;
  /** The client of the attempt under way (closed if it times out or the gateway stops). */
  private pendingClient?: Client;
  private readonly stderrTail = new StderrTail();
  private closed = false;
  private connectedAt?: number;
  private everReady = false;
  private reconnectAttempts = 0;
  private authRetries = 0;
  private retryTimer?: NodeJS.Timeout;
  private reauthenticating = false;
  /** The connection attempt under way: one at a time, whoever asks. */
  private attempt?: Promise<void>;

  constructor(
    config: ServerConfig,
    log: Logger,
    readonly connectTimeoutMs: number,
    private readonly runtime: DownstreamRuntime = {},
  ) {
    super(config, log, runtime.cache);
    this.transportKind = config.kind === 'stdio' ? 'stdio' : config.transport;
    if (config.kind === 'http' && runtime.auth) {
      const login = (this.login = new DownstreamLogin(config, log, runtime.auth, loadHttpTransports));
      this.stepUp = new StepUp(log, async () => {
        await login.stepUp();
        // More permissions may bring more tools: the lists are read again.
        if (this.connection) void this.refreshLists(this.connection.client, ['tools', 'resources', 'prompts']);
      });
    }
    this.requests = new RequestPath(this.requestPathOwner());
  }

  /** The server's OAuth state (HTTP servers only, created on first connect). */
  get auth(): ServerAuth | undefined {
    return this.login?.auth;
  }

  /** Whether a connection attempt is under way. */
  get attempting(): boolean {
    return this.attempt !== undefined;
  }

  /** What the server said it can do, while it is connected. */
  get capabilities(): ServerCapabilities | undefined {
    return this.connection?.client.getServerCapabilities();
  }

  /** Connects, or joins the attempt under way. */
  connect(): Promise<void> {
    this.attempt ??= this.connectNow().finally(() => {
      this.attempt = undefined;
    });
    return this.attempt;
  }

  /** Waits until the server is ready (see waitUntilReady); one that needs a login with none under way starts one. */
  whenReady(wait: ReadyWait): Promise<boolean> {
    return waitUntilReady(this, () => this.closed, wait);
  }

  private async connectNow(): Promise<void> {
    if (this.config.disabled || this.closed) return;
    clearTimeout(this.retryTimer);
    if (this.state.status !== 'reconnecting') this.setState({ status: 'connecting' });
    const started = Date.now();
    try {
      // Tokens are loaded and refreshed first: a slow authorization server is not a slow MCP server.
      await this.login?.prepare();
      try {
        await this.connectWithTimeout();
      } catch (error) {
        // A 401 (or a 403 asking for more scopes): log in (no connect timeout while the user is in the browser), then connect again.
        const status = httpStatusOf(error);
        if (!this.auth || this.closed || !(status === 401 || (status === 403 && this.auth.takeStepUp()))) throw error;
        await this.login!.logIn((state) => this.setState(state));
        await this.connectWithTimeout();
      }
      this.connectedAt = Date.now();
      this.authRetries = 0;
      this.everReady = true;
      this.log.info(
        `${this.state.status === 'reconnecting' ? 'reconnected' : 'ready'}: ${this.tools.length} tools via ${this.transportKind} (${this.connectedAt - started} ms)`,
      );
      this.setState({ status: 'ready' });
      this.runtime.hooks?.onReady(this);
      void this.saveCatalog();
    } catch (error) {
      await settled(this.pendingClient?.close());
      this.pendingClient = undefined;
      if (!this.closed) this.attemptFailed(error);
    }
  }

  private attemptFailed(error: unknown): void {
    const reason = explainFailure(this.config, error, httpStatusOf(error), this.stderrTail.meaningful());
    const refused = [401, 403].includes(httpStatusOf(error) ?? 0);
    if (this.everReady && !refused && !isAuthError(error)) return this.connectionLost(reason);
    if (isLoginRequired(error)) {
      // No login can start by itself now (headless, or the browser-tab limit): a call to the server starts one.
      const why = redact(errorMessage(error));
      this.log.warn(`needs a login: ${why}`);
      return this.setState({ status: 'needs-auth', reason: why, loginInProgress: false });
    }
    this.log.warn(`failed: ${reason}`);
    this.dropLists();
    this.setState({ status: 'failed', reason, code: failureCode(error) });
    if (isRetryableAuthError(error)) this.retryLater(authRetryDelay(this.authRetries++));
  }

  /**
   * A server that was ready went away (its process exited, its HTTP endpoint stopped
   * answering): connect it again with backoff. Meanwhile its tools stay listed and calls wait.
   */
  private connectionLost(reason: string): void {
    if (this.closed) return;
    // A server that stayed up a while starts its backoff afresh; one that keeps dying soon after starting does not.
    if (this.state.status === 'ready' && this.connectedAt && Date.now() - this.connectedAt > STABLE_AFTER_MS) this.reconnectAttempts = 0;
    void this.disconnect();
    const attempt = ++this.reconnectAttempts;
    const delay = reconnectDelay(attempt - 1);
    this.log.warn(`${reason}; reconnecting in ${(delay / 1000).toFixed(1)} s (attempt ${attempt})`);
    this.setState({ status: 'reconnecting', reason, attempt, nextAttemptAt: Date.now() + delay });
    this.connectIn(delay);
  }

  private retryLater(delay: number): void {
    this.log.info(`will try again in ${Math.round(delay / 1000)} s`);
    this.connectIn(delay);
  }

  private connectIn(delay: number): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.connect(), delay);
    this.retryTimer.unref();
  }

  /** The one teardown: forget the connection and close its client (without waiting, unless awaited). */
  private disconnect(): Promise<void> {
    const client = this.connection?.client;
    this.connection = undefined;
    return settled(client?.close());
  }

  /** Through the SDK client (everything but the relayed tools/call): see RequestPath.request. */
  request(request: { method: string; params?: Record<string, unknown> }, options: RequestOptions = {}): Promise<Record<string, unknown>> {
    return this.requests.request(request, options);
  }

  /** As it is, bypassing the SDK client: the per-call relay's path. `hold`: see StepUpHold. */
  send(message: JSONRPCMessage, hold?: StepUpHold): Promise<void> {
    return this.requests.send(message, hold);
  }

  /** Sends a notification to the server, if it is connected. */
  async notify(notification: Notification): Promise<void> {
    await settled(this.connection?.client.notification(notification as never));
  }

  /** The lifecycle side of the request path (see RequestPathOwner). */
  private requestPathOwner(): RequestPathOwner {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the owner's getters read this lifecycle's current state
    const self = this;
    return {
      config: this.config,
      log: this.log,
      get auth() {
        return self.auth;
      },
      stepUp: this.stepUp,
      live: () =>
        this.connection && this.state.status === 'ready'
          ? this.connection
          : `server "${this.name}" is not available (${describeState(this.state)})`,
      hasSessions: () => this.config.kind === 'http' && this.transportKind === 'streamable-http',
      reopen: async () => {
        await this.disconnect();
        await this.connectWithTimeout();
        this.runtime.hooks?.onReady(this);
      },
      failed: (error, failure) => {
        if (failure.act === 'log-in-again') void this.reauthenticate();
        if (failure.act === 'auth-unavailable') this.authUnavailable(error as Error, failure.retry);
        if (failure.act === 'reconnect' && this.state.status === 'ready') this.connectionLost(failure.reason);
      },
    };
  }

  /** A refresh failed for good on a live connection (the authorization server is down): failed until a slow retry succeeds. */
  private authUnavailable(error: Error, retry: boolean): void {
    if (this.state.status !== 'ready' || this.closed) return;
    void this.disconnect();
    this.dropLists();
    const reason = `${redact(errorMessage(error))}${retry ? '; retrying in the background' : ''}`;
    this.log.warn(`failed: ${reason}`);
    this.setState({ status: 'failed', reason, code: failureCode(error) });
    if (retry) this.retryLater(authRetryDelay(this.authRetries++));
  }

  /** A 401 on a live connection that a refresh could not cure: log in again, then reconnect. */
  private async reauthenticate(): Promise<void> {
    if (this.reauthenticating || this.closed || !this.auth) return;
    this.reauthenticating = true;
    try {
      await this.disconnect();
      this.dropLists();
      this.log.warn('the server no longer accepts the login; logging in again');
      await this.connect();
    } finally {
      this.reauthenticating = false;
    }
  }

  private async connectWithTimeout(): Promise<void> {
    const http = this.config.kind === 'http' ? await loadHttpTransports() : undefined;
    const auth = await this.login?.ensure();
    const connection = await withTimeout(
      openConnection({
        config: this.config,
        log: this.log,
        stderrTail: this.stderrTail,
        declared: this.runtime.clientCapabilities?.() ?? {},
        handlers: this.handlers(),
        http,
        wrapFetch: auth ? (base) => auth.authorizedFetch(base) : undefined,
        auth: auth?.bearer(),
        onClient: (client) => void (this.pendingClient = client),
        isClosed: () => this.closed,
      }),
      this.connectTimeoutMs,
      () => {
        void settled(this.pendingClient?.close());
        return new ConnectTimeoutError(this.connectTimeoutMs);
      },
    );
    this.pendingClient = undefined;
    this.connection = connection;
    this.transportKind = connection.kind;
    this.adoptLive({ ...connection.lists, instructions: connection.instructions, serverInfo: connection.serverInfo });
  }

  /** What this server's connections do with their traffic: the gateway's hooks, and this lifecycle's own. */
  private handlers(): ConnectionHandlers {
    const hooks = this.runtime.hooks;
    const current = (client: Client) => this.connection?.client === client;
    return {
      setup: (client, declared) => hooks?.clientSetup(this, client, declared),
      intercept: (message) => hooks?.intercept(this, message) ?? false,
      interceptRawLine: (line) => hooks?.interceptRawLine(this, line) ?? false,
      notification: (notification) => hooks?.onNotification(this, notification),
      listChanged: (client, kinds) => void this.refreshLists(client, kinds),
      error: (client, error) => {
        this.log.debug(`transport error: ${errorMessage(error)}`);
        // A 401 on a request the SDK client made itself (the SSE stream, a tools/list) needs a login as much as a call's.
        if (current(client) && this.state.status === 'ready' && httpStatusOf(error) === 401) void this.reauthenticate();
      },
      closed: (client) => {
        if (!current(client) || this.closed) return;
        this.connection = undefined;
        if (this.state.status !== 'ready') return;
        const reason = explainClose(this.config, this.stderrTail.meaningful());
        this.log.error(`disconnected: ${reason}`);
        this.connectionLost(reason);
      },
    };
  }

  private async refreshLists(client: Client, kinds: ListKind[]): Promise<void> {
    if (this.connection?.client !== client || this.state.status !== 'ready') return;
    try {
      this.adoptLists(await fetchLists(client, kinds));
      this.emit('changed');
      void this.saveCatalog();
    } catch (error) {
      this.log.warn(`could not refresh the ${kinds.join(' and ')} list: ${errorMessage(error)}`);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    await this.saving;
    await this.auth?.close(); // Also ends a login in progress: its listener, lock and page.
    await settled(this.pendingClient?.close());
    await this.disconnect();
  }
}
