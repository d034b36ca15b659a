import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  auth,
  discoverOAuthServerInfo,
  refreshAuthorization,
  registerClient,
  type OAuthDiscoveryState,
} from '@modelcontextprotocol/sdk/client/auth.js';
import {
  OAuthError,
  InvalidClientError,
  InvalidGrantError,
  InvalidScopeError,
  InvalidTargetError,
  ServerError,
  TemporarilyUnavailableError,
  TooManyRequestsError,
  UnauthorizedClientError,
} from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { OAuthServerConfig } from '../config/types.js';
import { errorMessage, type Logger } from '../log/logger.js';
import { redact, registerSecret } from '../log/redact.js';
import { backoffDelay, sleep } from './backoff.js';
import { checkDiscovery } from './discoveryChecks.js';
import { fetchConfiguredMetadata } from './configuredMetadata.js';
import { fetchClientCredentialsToken } from './machineGrant.js';
import { GatewayOAuthProvider } from './gatewayOAuthProvider.js';
import {
  CallbackPortInUseError,
  DEFAULT_CALLBACK_TIMEOUT_MS,
  judgeCallback,
  startLoopbackListener,
  type CallbackExpectations,
  type LoopbackListener,
} from './loopbackListener.js';
import { createOAuthFetch } from './oauthFetch.js';
import { LoginRequiredError, OAuthFlowError, TransientAuthError, UnsafeAuthorizationServerError } from './oauthErrors.js';
import { showAuthorizationUrl } from './openBrowser.js';
import { storedTokensFrom, type StoredClient, type StoredTokens, type TokenStore } from './tokenStore.js';
import { basicCredentials } from './revokeToken.js';
import { DEVICE_CODE_GRANT, runDeviceFlow } from './deviceFlow.js';
import { checkEndpointUrl } from './urlRules.js';
import { bearerChallenge } from './wwwAuthenticate.js';

export interface ServerAuthOptions {
  name: string;
  url: string;
  oauth?: OAuthServerConfig;
  store: TokenStore;
  log: Logger;
  /** Print the login URL instead of opening a browser. */
  noBrowser?: boolean;
  /** Never start an interactive login (a server that needs one fails with what to do). */
  headless?: boolean;
  callbackTimeoutMs?: number;
  /**
   * Shows the login URL some other way than a browser on this machine (the MCP client's URL
   * elicitation); true when it did, and then no browser is opened here.
   */
  presentLoginUrl?: (url: string) => boolean;
  /** Tries of one refresh before it is reported as failed (transient errors only). */
  refreshAttempts?: number;
  env?: NodeJS.ProcessEnv;
}

/** Logins that add scopes a 403 asked for, per server and process, before the gateway stops asking. */
const MAX_STEP_UPS = 2;

/** No automatic browser launch for a server more often than this (across processes). */
export const BROWSER_LAUNCH_INTERVAL_MS = 60_000;
/** Refresh this long before expiry at most (less for short-lived tokens: a quarter of their lifetime). */
const REFRESH_MARGIN_MS = 60_000;

/**
 * The OAuth side of one HTTP server: its tokens, kept fresh, and its logins.
 *
 * - `authorizedFetch` adds the server's Bearer token to requests for the server's own
 *   origin only, refreshes it shortly before expiry, and on a 401 refreshes once and
 *   retries; a 401 it cannot cure goes back to the transport, which then fails with 401.
 * - `login()` runs the SDK's `auth()` with a GatewayOAuthProvider: discovery, registration,
 *   PKCE, the browser and the loopback callback, the code exchange.
 * - Refreshes and logins hold the store's per-server lock, so gateway processes sharing a
 *   store neither replay a rotated refresh token nor open a second browser: whoever gets
 *   the lock re-reads the store first.
 * - Transient refresh failures are retried with backoff and never lead to a browser.
 */
export class ServerAuth extends EventEmitter<{ 'login-url': [string] }> {
  readonly provider: GatewayOAuthProvider;
  private tokens?: StoredTokens;
  private loaded = false;
  private unsaved = false;
  private saveRetry?: NodeJS.Timeout;
  private refreshing?: Promise<StoredTokens | undefined>;
  private loggingIn?: Promise<void>;
  private challenge: { resourceMetadata?: string; scope?: string } = {};
  private readonly oauthFetch: FetchLike;
  private readonly origin: string;

  constructor(private readonly options: ServerAuthOptions) {
    super();
    this.origin = new URL(options.url).origin;
    this.oauthFetch = createOAuthFetch();
    this.provider = new GatewayOAuthProvider(options.url, options.store, options.oauth, (tokens) => this.adopt(tokens));
    if (options.oauth?.clientSecret) registerSecret(options.oauth.clientSecret);
  }

  /** Scopes a 403 `insufficient_scope` asked for: the next login asks for them with those held. */
  private stepUpScope?: string;
  private stepUps = 0;
  private stepUpPending = false;

  /** The OAuth flow in progress (a login or a refresh): its correlation id is on every line it logs. */
  private flow?: { id: string; label: string; log: Logger };

  private get log(): Logger {
    return this.flow?.log ?? this.options.log;
  }

  /**
   * Runs one OAuth flow with a correlation id: every log line it causes carries
   * `[<server> <kind> <id>]`, and an error it ends with says `[<kind> <id>]`.
   */
  private async inFlow<T>(kind: 'login' | 'refresh', fn: () => Promise<T>): Promise<T> {
    const previous = this.flow;
    const id = randomBytes(3).toString('hex');
    const label = `${kind} ${id}`;
    this.flow = { id, label, log: this.options.log.child(label) };
    try {
      return await fn();
    } catch (error) {
      const clean = sanitize(error);
      if (!clean.message.includes(`[${label}]`)) clean.message += ` [${label}]`;
      throw clean;
    } finally {
      this.flow = previous;
    }
  }

  /**
   * Asks the server, without a token, what it wants: the `WWW-Authenticate` of its 401
   * (resource metadata URL, scope) is remembered for the next login. Returns the status.
   */
  async probe(timeoutMs = 10_000): Promise<number> {
    const response = await fetch(this.options.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'mcp-oauth-gateway', version: '0' } },
      }),
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'manual',
    });
    await response.body?.cancel().catch(() => {});
    if (response.status === 401) this.rememberChallenge(response.headers.get('www-authenticate'));
    return response.status;
  }

  /** Whether tokens are held (not whether they still work). */
  get hasTokens(): boolean {
    return this.tokens !== undefined;
  }

  /** Reads the stored tokens again: on every (re)connect, so logins from other processes and earlier runs are used. */
  async reload(): Promise<void> {
    if (this.unsaved) return; // What we hold is newer than the store.
    this.tokens = await this.options.store.readTokens(this.options.url);
    this.loaded = true;
    if (this.tokens) {
      registerSecret(this.tokens.access_token);
      registerSecret(this.tokens.refresh_token);
    }
  }

  /** The fetch for this server's MCP traffic. */
  authorizedFetch(base: FetchLike): FetchLike {
    return async (input, init) => {
      const target = new URL(input instanceof URL ? input.href : String(input));
      // A token is only ever sent to the server it was issued for.
      if (target.origin !== this.origin) return base(input, init);
      const token = await this.currentAccessToken();
      let response = await base(input, withBearer(init, token));
      if (response.status === 403) this.noteForbidden(response.headers.get('www-authenticate'));
      if (response.status !== 401) return response;
      this.rememberChallenge(response.headers.get('www-authenticate'));
      if (!this.tokens?.refresh_token && !this.machine) return response;
      await response.body?.cancel().catch(() => {});
      const refreshed = await this.refresh(token);
      if (!refreshed) return new Response(null, { status: 401, headers: response.headers });
      response = await base(input, withBearer(init, refreshed.access_token));
      if (response.status === 401) this.rememberChallenge(response.headers.get('www-authenticate'));
      return response;
    };
  }

  /**
   * A 403 `insufficient_scope` (RFC 6750): the next login asks for the scopes held plus the ones
   * named, at most MAX_STEP_UPS times per server, so a server that always wants more cannot loop.
   */
  private noteForbidden(header: string | null): void {
    const bearer = bearerChallenge(header);
    if (bearer?.error !== 'insufficient_scope') return;
    if (this.stepUps >= MAX_STEP_UPS) {
      this.log.warn(`the server asks for more scopes (${bearer.scope ?? 'unnamed'}) again; not logging in again after ${MAX_STEP_UPS} step-ups`);
      return;
    }
    this.stepUps++;
    this.stepUpScope = [...new Set([...(this.stepUpScope?.split(' ') ?? []), ...(bearer.scope?.split(' ') ?? [])])].filter(Boolean).join(' ');
    this.stepUpPending = true;
    this.log.info(`the server needs more permissions (insufficient_scope: ${bearer.scope ?? 'unnamed'}); a new login will ask for them`);
  }

  /** Whether a step-up login is due (and, by asking, it is no longer pending). */
  takeStepUp(): boolean {
    const pending = this.stepUpPending;
    this.stepUpPending = false;
    return pending;
  }

  private rememberChallenge(header: string | null): void {
    const bearer = bearerChallenge(header);
    if (!bearer) return;
    this.challenge = { resourceMetadata: bearer.resourceMetadata, scope: bearer.scope };
  }

  /** `oauth.grant: "client_credentials"`: a machine's server, which never involves a person or a browser. */
  private get machine(): boolean {
    return this.options.oauth?.grant === 'client_credentials';
  }

  /** A new token by the client credentials grant (at login, and whenever the current one expires or is refused). */
  private async machineToken(): Promise<StoredTokens> {
    const discovery = await this.ensureDiscovery();
    try {
      const result = await this.withTransientRetries('the client credentials token request', () =>
        fetchClientCredentialsToken(discovery, this.options.oauth!, this.loginScope(discovery), this.resourceIndicator(discovery), this.oauthFetch),
      );
      const tokens = storedTokensFrom(result, 'the token response', { issuer: discovery.authorizationServerUrl });
      await this.adopt(tokens);
      this.log.info('got a token with the client credentials grant');
      return tokens;
    } catch (error) {
      if (error instanceof TransientAuthError) throw error;
      throw new OAuthFlowError('client_credentials_refused', `the authorization server refused the client credentials: ${sanitize(error).message}; check oauth.clientId and its secret or key`);
    }
  }

  /**
   * Runs a token request, retrying what may pass (network errors, 5xx, 429,
   * `temporarily_unavailable`) with backoff and jitter, a bounded number of times; any other
   * failure, and the last transient one (as TransientAuthError), goes to the caller.
   */
  private async withTransientRetries<T>(what: string, request: () => Promise<T>): Promise<T> {
    const attempts = this.options.refreshAttempts ?? 4;
    for (let attempt = 0; ; attempt++) {
      try {
        return await request();
      } catch (error) {
        if (classifyTokenError(error) !== 'transient') throw error;
        const why = sanitize(error).message;
        if (attempt + 1 >= attempts) throw new TransientAuthError(`${what} failed ${attempts} times: ${why}`);
        const delay = backoffDelay(attempt);
        this.log.warn(`${what} failed (${why}); retrying in ${(delay / 1000).toFixed(1)} s`);
        await sleep(delay);
      }
    }
  }

  /** Before connecting: the stored tokens loaded and, if they expire soon, refreshed (outside any connect timeout). */
  async ensureFresh(): Promise<void> {
    await this.currentAccessToken();
  }

  private async currentAccessToken(): Promise<string | undefined> {
    if (!this.loaded) await this.reload();
    const tokens = this.tokens;
    if (!tokens) return undefined;
    if (!expiresSoon(tokens)) return tokens.access_token;
    if (!tokens.refresh_token && !this.machine) return expired(tokens) ? undefined : tokens.access_token;
    const refreshed = await this.refresh(tokens.access_token);
    return refreshed?.access_token;
  }

  /**
   * Refreshes the tokens (one refresh at a time in this process, under the store lock across
   * processes). `rejected` is the access token that failed or is expiring: if the store
   * already holds another, a sibling refreshed first and that one is used.
   * Resolves undefined when the refresh token is no longer good (a login is needed);
   * throws TransientAuthError when the authorization server could not be reached.
   */
  refresh(rejected: string | undefined): Promise<StoredTokens | undefined> {
    this.refreshing ??= this.options.store.withLock(this.options.url, () => this.inFlow('refresh', () => this.refreshLocked(rejected)), {
      timeoutMs: (this.options.callbackTimeoutMs ?? DEFAULT_CALLBACK_TIMEOUT_MS) + 30_000,
    }).finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async refreshLocked(rejected: string | undefined): Promise<StoredTokens | undefined> {
    if (!this.unsaved) {
      const onDisk = await this.options.store.readTokens(this.options.url);
      if (onDisk && (!this.tokens || onDisk.obtained_at >= this.tokens.obtained_at)) this.tokens = onDisk;
    }
    const current = this.tokens;
    if (current && current.access_token !== rejected && !expiresSoon(current)) return current;
    if (this.machine) return this.machineToken();
    if (!current?.refresh_token) return undefined;
    try {
      return await this.withTransientRetries('token refresh', () => this.refreshOnce(current.refresh_token!));
    } catch (error) {
      const kind = classifyTokenError(error);
      if (kind === 'transient') throw error;
      if (kind === 'fatal') {
        throw new OAuthFlowError('refresh_refused', `the token refresh was refused and retrying will not help: ${redact(errorMessage(error))}`);
      }
      if (kind === 'client') {
        this.log.warn('the authorization server no longer knows this client (invalid_client); registering again at the next login');
        await this.options.store.delete(this.options.url, this.options.oauth?.clientId ? ['tokens'] : ['tokens', 'client']);
      } else {
        this.log.warn(`the refresh token was refused (${redact(errorMessage(error)) || 'invalid_grant'}); a new login is needed`);
        await this.options.store.delete(this.options.url, ['tokens']);
      }
      this.tokens = undefined;
      return undefined;
    }
  }

  private async refreshOnce(refreshToken: string): Promise<StoredTokens> {
    const discovery = await this.ensureDiscovery();
    const clientInformation = await this.provider.clientInformation();
    if (!clientInformation) throw new InvalidClientError('no client registration is stored for this server');
    const result = await refreshAuthorization(discovery.authorizationServerUrl, {
      metadata: discovery.authorizationServerMetadata,
      clientInformation,
      refreshToken,
      resource: this.resourceIndicator(discovery),
      addClientAuthentication: this.provider.addClientAuthentication,
      fetchFn: this.oauthFetch,
    });
    const tokens = storedTokensFrom(result, 'the refresh response', {
      refresh_token: result.refresh_token ?? refreshToken,
      ...(this.tokens?.issuer ? { issuer: this.tokens.issuer } : {}),
    });
    await this.adopt(tokens);
    this.log.info('refreshed the access token');
    return tokens;
  }

  /** The RFC 8707 resource exactly as the metadata names it (as the SDK's login sends it: `https://x` stays without a slash). */
  private resourceIndicator(discovery: OAuthDiscoveryState): string | undefined {
    if (this.options.oauth?.resource === false) return undefined;
    return discovery.resourceMetadata?.resource || undefined;
  }

  /**
   * Makes tokens current: persisted before they are used (so a rotated refresh token is
   * never lost), and if the store cannot be written, kept in memory and saved again later.
   */
  private async adopt(tokens: StoredTokens): Promise<void> {
    registerSecret(tokens.access_token);
    registerSecret(tokens.refresh_token);
    this.tokens = tokens;
    this.loaded = true;
    try {
      await this.options.store.writeTokens(this.options.url, tokens);
      this.unsaved = false;
    } catch (error) {
      this.unsaved = true;
      this.log.error(`could not save the tokens (${errorMessage(error)}); keeping them in memory and retrying the save`);
      this.scheduleSaveRetry();
    }
  }

  /** Ends a login in progress when the server is closed (a config edit, shutdown). */
  private readonly closing = new AbortController();

  /**
   * On shutdown or when the server is removed: a login in progress ends (without counting as
   * a failed one), and one last try to save tokens that could not be saved.
   */
  async close(): Promise<void> {
    this.closing.abort();
    clearTimeout(this.saveRetry);
    if (!this.unsaved || !this.tokens) return;
    try {
      await this.options.store.writeTokens(this.options.url, this.tokens);
      this.unsaved = false;
    } catch (error) {
      this.log.error(`could not save the tokens before exiting (${errorMessage(error)}); the next start may need a login`);
    }
  }

  private scheduleSaveRetry(attempt = 0): void {
    clearTimeout(this.saveRetry);
    this.saveRetry = setTimeout(async () => {
      if (!this.unsaved || !this.tokens) return;
      try {
        await this.options.store.writeTokens(this.options.url, this.tokens);
        this.unsaved = false;
        this.log.info('saved the tokens that could not be saved before');
      } catch {
        this.scheduleSaveRetry(attempt + 1);
      }
    }, backoffDelay(attempt, 1000, 60_000));
    this.saveRetry.unref();
  }

  private async ensureDiscovery(): Promise<OAuthDiscoveryState> {
    const cached = await this.provider.discoveryState();
    if (cached?.authorizationServerMetadata) return cached;
    const state = await this.discover();
    await this.provider.saveDiscoveryState(state);
    return state;
  }

  private async discover(): Promise<OAuthDiscoveryState> {
    const configured = this.options.oauth?.authServerMetadataUrl;
    if (configured) {
      const state = await fetchConfiguredMetadata(configured, this.oauthFetch);
      checkDiscovery(state);
      return state;
    }
    const resourceMetadataUrl = this.challenge.resourceMetadata ? new URL(this.challenge.resourceMetadata) : undefined;
    const info = await discoverOAuthServerInfo(this.options.url, { resourceMetadataUrl, fetchFn: this.oauthFetch });
    const state: OAuthDiscoveryState = { ...info, resourceMetadataUrl: resourceMetadataUrl?.href };
    if (!info.resourceMetadata) {
      this.log.info(`no protected resource metadata (RFC 9728): using the MCP server's origin ${info.authorizationServerUrl} as its authorization server (MCP 2025-03-26)`);
    }
    if (!info.authorizationServerMetadata && !info.resourceMetadata) {
      // MCP 2025-03-26: without metadata, the default endpoints at the server's origin.
      const origin = new URL(this.options.url).origin;
      this.log.info(`no authorization server metadata at ${origin}: using the default endpoints /authorize, /token and /register there (MCP 2025-03-26)`);
      state.authorizationServerUrl = `${origin}/`;
      state.authorizationServerMetadata = {
        issuer: `${origin}/`,
        authorization_endpoint: `${origin}/authorize`,
        token_endpoint: `${origin}/token`,
        registration_endpoint: `${origin}/register`,
        response_types_supported: ['code'],
        // 2025-03-26 requires PKCE of every MCP authorization server.
        code_challenge_methods_supported: ['S256'],
      };
    }
    checkDiscovery(state);
    return state;
  }

  /**
   * The scope of a login: the 401's (or a 403's step-up, joined to the scopes held), else the
   * resource metadata's scopes_supported (an empty list: none), else the config's; plus
   * `offline_access` when the authorization server lists it (so a refresh token is issued).
   * Nothing named anywhere: no scope parameter at all.
   */
  private loginScope(discovery: OAuthDiscoveryState): string | undefined {
    const supported = discovery.resourceMetadata?.scopes_supported;
    let scopes = (this.challenge.scope ?? (supported !== undefined ? supported.join(' ') : this.options.oauth?.scopes?.join(' ')) ?? '').split(' ').filter(Boolean);
    if (this.stepUpScope) scopes = [...new Set([...(this.tokens?.scope?.split(' ') ?? []), ...scopes, ...this.stepUpScope.split(' ')])].filter(Boolean);
    const asScopes = (discovery.authorizationServerMetadata as { scopes_supported?: string[] } | undefined)?.scopes_supported;
    // Refresh tokens come with a person's grant; the client credentials grant gets none.
    if (!this.machine && asScopes?.includes('offline_access') && !scopes.includes('offline_access')) scopes.push('offline_access');
    return scopes.length ? scopes.join(' ') : undefined;
  }

  /**
   * An interactive login: one at a time per server in this process, under the store lock
   * across processes (a process that waited for the lock uses the tokens its sibling got).
   */
  login({ force = false, paste }: { force?: boolean; paste?: PasteReader } = {}): Promise<void> {
    this.loggingIn ??= this.loginOnce(force, paste).finally(() => {
      this.loggingIn = undefined;
    });
    return this.loggingIn;
  }

  private async loginOnce(force: boolean, paste?: PasteReader): Promise<void> {
    const rejected = this.tokens?.access_token;
    if (this.machine) {
      await this.options.store.withLock(this.options.url, () => this.inFlow('login', () => this.machineToken()));
      return;
    }
    if (this.options.headless) {
      throw new LoginRequiredError(
        `${this.options.name} needs a login and this gateway runs headless (--headless), so no browser is opened here; ` +
          `run \`gateway auth login ${this.options.name}\` on a machine with a browser, then \`gateway auth export ${this.options.name} --move --out FILE\` there ` +
          `and \`gateway auth import FILE\` here (or copy the token store directory), and restart`,
      );
    }
    await this.options.store.withLock(
      this.options.url,
      () => this.inFlow('login', async () => {
        const onDisk = await this.options.store.readTokens(this.options.url);
        if (!force && onDisk && onDisk.access_token !== rejected && !expired(onDisk)) {
          this.tokens = onDisk; // A sibling process logged in while we waited.
          this.log.info('using the login another gateway process just completed');
          return;
        }
        if (!force) await this.checkBrowserRateLimit();
        await this.interactiveLogin(paste);
      }),
      { timeoutMs: (this.options.callbackTimeoutMs ?? DEFAULT_CALLBACK_TIMEOUT_MS) + 60_000 },
    );
  }

  /**
   * Automatic browser launches per server, across processes: none while the last one, less
   * than a minute ago, has not completed a login (it failed, timed out, or its process died:
   * a crash-restart loop never opens a storm of tabs), and at most two a minute in any case.
   */
  /**
   * `gateway auth login --device`: the device authorization grant (RFC 8628), when the
   * authorization server offers it. The user enters a short code on any device; no browser
   * or loopback listener is involved here.
   */
  deviceLogin(show: (text: string) => void): Promise<void> {
    return this.options.store.withLock(this.options.url, () =>
      this.inFlow('login', async () => {
        const discovery = await this.ensureDiscovery();
        const metadata = discovery.authorizationServerMetadata as Record<string, unknown>;
        const endpoint = metadata.device_authorization_endpoint;
        if (typeof endpoint !== 'string') {
          throw new OAuthFlowError(
            'device_flow_unsupported',
            `${discovery.authorizationServerUrl} does not offer the device flow (no device_authorization_endpoint, RFC 8628); use \`gateway auth login ${this.options.name} --paste\` instead`,
          );
        }
        checkEndpointUrl(endpoint, 'the device_authorization_endpoint');
        const client = await this.deviceClient(discovery);
        const resource = this.resourceIndicator(discovery);
        const scope = this.loginScope(discovery);
        const tokens = await runDeviceFlow({
          deviceEndpoint: endpoint,
          tokenEndpoint: String(metadata.token_endpoint),
          client,
          scope,
          resource,
          fetchFn: this.oauthFetch,
          show,
          serverName: this.options.name,
          authenticate: async (headers, params, url) => {
            if (this.provider.addClientAuthentication) return this.provider.addClientAuthentication(headers, params, url, discovery.authorizationServerMetadata);
            if (!client.client_secret) return;
            const methods = (metadata.token_endpoint_auth_methods_supported as string[] | undefined) ?? [];
            // As the SDK chooses for its own requests: Basic where listed (and by default, RFC 8414), else post.
            if (!methods.length || methods.includes('client_secret_basic')) {
              headers.set('authorization', basicCredentials(client.client_id, client.client_secret));
            } else params.set('client_secret', client.client_secret);
          },
        });
        await this.adopt(storedTokensFrom(tokens, 'the token response', { issuer: discovery.authorizationServerUrl }));
        this.log.info(`logged in to ${this.options.name} with the device flow`);
      }),
    );
  }

  /** The client for the device flow: the configured one, the stored registration, or a new registration that lists the device grant. */
  private async deviceClient(discovery: OAuthDiscoveryState): Promise<{ client_id: string; client_secret?: string }> {
    if (this.options.oauth?.clientId) return { client_id: this.options.oauth.clientId, client_secret: this.options.oauth.clientSecret };
    const stored = await this.options.store.readClient(this.options.url);
    if (stored) return stored;
    const redirectUri = 'http://127.0.0.1/callback';
    const registered = await registerClient(discovery.authorizationServerUrl, {
      metadata: discovery.authorizationServerMetadata,
      clientMetadata: { ...this.provider.clientMetadata, redirect_uris: [redirectUri], grant_types: ['authorization_code', 'refresh_token', DEVICE_CODE_GRANT] },
      fetchFn: this.oauthFetch,
    });
    if (typeof registered.client_id !== 'string' || !registered.client_id) throw new UnsafeAuthorizationServerError('the client registration response carries no client_id');
    await this.options.store.writeClient(this.options.url, { ...registered, source: 'dcr', redirect_uri: redirectUri, issuer: discovery.authorizationServerUrl } as StoredClient);
    return registered;
  }

  private async checkBrowserRateLimit(): Promise<void> {
    const record = await this.readBrowserRecord();
    const now = Date.now();
    if (record.failed_at !== undefined && now - record.failed_at < BROWSER_LAUNCH_INTERVAL_MS) {
      throw new LoginRequiredError(
        `a login for ${this.options.name} failed ${Math.round((now - record.failed_at) / 1000)} s ago; not opening another browser tab automatically ` +
          `(restart the gateway in ${Math.ceil((record.failed_at + BROWSER_LAUNCH_INTERVAL_MS - now) / 1000)} s, or run \`gateway auth login ${this.options.name}\`)`,
      );
    }
    const recent = record.launches.filter((at) => now - at < BROWSER_LAUNCH_INTERVAL_MS);
    if (!recent.length) return;
    const last = Math.max(...recent);
    if (record.completed && recent.length < 2) return;
    const wait = Math.ceil((Math.min(...recent) + BROWSER_LAUNCH_INTERVAL_MS - now) / 1000);
    throw new LoginRequiredError(
      record.completed
        ? `${this.options.name} needed two logins within a minute; not opening another browser tab automatically (restart the gateway in ${wait} s to try again)`
        : `a login for ${this.options.name} was started ${Math.round((now - last) / 1000)} s ago and did not complete; not opening another browser tab automatically (restart the gateway in ${Math.ceil((last + BROWSER_LAUNCH_INTERVAL_MS - now) / 1000)} s to try again)`,
    );
  }

  private async readBrowserRecord(): Promise<BrowserRecord> {
    try {
      const text = await this.options.store.readMeta(this.options.url, 'browser');
      const value = text ? (JSON.parse(text) as Partial<BrowserRecord>) : {};
      return {
        launches: Array.isArray(value.launches) ? value.launches.filter((at) => typeof at === 'number') : [],
        completed: value.completed === true,
        ...(typeof value.failed_at === 'number' ? { failed_at: value.failed_at } : {}),
      };
    } catch {
      return { launches: [], completed: true };
    }
  }

  private async writeBrowserRecord(update: (record: BrowserRecord) => BrowserRecord): Promise<void> {
    const record = update(await this.readBrowserRecord());
    const now = Date.now();
    record.launches = record.launches.filter((at) => now - at < BROWSER_LAUNCH_INTERVAL_MS);
    await this.options.store.writeMeta(this.options.url, 'browser', `${JSON.stringify(record)}\n`).catch((error: unknown) =>
      this.log.warn(`could not record the browser launch (${errorMessage(error)})`),
    );
  }

  private async interactiveLogin(paste?: PasteReader): Promise<void> {
    const listener = await this.startListener();
    let launched = false;
    try {
      this.provider.resetFlow(listener.redirectUri);
      const discovery = await this.ensureDiscovery();
      const resourceMetadataUrl = this.challenge.resourceMetadata ? new URL(this.challenge.resourceMetadata) : undefined;
      const result = await auth(this.provider, {
        serverUrl: this.options.url,
        resourceMetadataUrl,
        scope: this.loginScope(discovery),
        fetchFn: this.oauthFetch,
      });
      if (result === 'AUTHORIZED') return;
      const authorizationUrl = this.provider.authorizationUrl;
      const state = this.provider.expectedState;
      if (!authorizationUrl || !state) throw new Error('the SDK did not produce an authorization URL');
      const metadata = (await this.provider.discoveryState())?.authorizationServerMetadata as
        | (Record<string, unknown> & { issuer: string })
        | undefined;
      const issuer = metadata?.authorization_response_iss_parameter_supported === true ? metadata.issuer : undefined;
      await this.writeBrowserRecord((record) => ({ launches: [...record.launches, Date.now()], completed: false }));
      launched = true;
      this.emit('login-url', authorizationUrl.href);
      if (this.options.presentLoginUrl?.(authorizationUrl.href)) {
        this.log.info(`asked the MCP client to open the login page for ${this.options.name}; waiting for the login to finish…`);
      } else {
        await showAuthorizationUrl(authorizationUrl.href, this.options.name, this.log, { noBrowser: this.options.noBrowser, env: this.options.env });
      }
      const expect = { serverName: this.options.name, state, issuer, expectedIssuer: metadata?.issuer, timeoutMs: this.options.callbackTimeoutMs };
      const fromBrowser = listener.waitForCode(expect).then((callback) => ({ ...callback, pasted: false }));
      fromBrowser.catch(() => {}); // Settled through the race below, or dropped when a paste wins.
      // With `paste`, the user may instead paste the address the browser landed on (another machine's loopback).
      const pasteRound = () => (paste ? readPastedCode(paste, expect) : new Promise<never>(() => {}));
      const closed = new Promise<never>((_, reject) => {
        const stop = () => reject(new OAuthFlowError('closed', `the login for ${this.options.name} was ended: the server was closed`));
        if (this.closing.signal.aborted) stop();
        else this.closing.signal.addEventListener('abort', stop, { once: true });
      });
      closed.catch(() => {});
      let received = await Promise.race([fromBrowser, pasteRound(), closed]);
      for (;;) {
        registerSecret(received.code);
        try {
          await auth(this.provider, { serverUrl: this.options.url, authorizationCode: received.code, resourceMetadataUrl, fetchFn: this.oauthFetch });
          break;
        } catch (error) {
          if (received.pasted && error instanceof InvalidGrantError) {
            // A reused or expired code: say so, and let the user paste this login's address.
            await paste!.say(`The authorization server refused that code (${sanitize(error).message || 'invalid_grant'}): it was used already or has expired. Approve again in the browser with the URL above, then paste the new address.`);
            received = await Promise.race([fromBrowser, pasteRound(), closed]);
            continue;
          }
          await received.finish({ ok: false, error: 'token_exchange_failed', description: sanitize(error).message });
          throw error;
        }
      }
      await received.finish({ ok: true });
      await this.writeBrowserRecord((record) => ({ ...record, completed: true, failed_at: undefined }));
      this.log.info(`logged in to ${this.options.name}`);
    } catch (error) {
      if (launched && !this.closing.signal.aborted) await this.writeBrowserRecord((record) => ({ ...record, completed: false, failed_at: Date.now() }));
      throw sanitize(error);
    } finally {
      this.provider.endFlow();
      await listener.close();
    }
  }

  /** The loopback listener on the port the registration names (or config), else an ephemeral one. */
  private async startListener(): Promise<LoopbackListener> {
    const configured = this.options.oauth?.callbackPort;
    if (configured) {
      try {
        return await startLoopbackListener(configured);
      } catch (error) {
        if (error instanceof CallbackPortInUseError) {
          throw new OAuthFlowError('port_in_use', `${error.message}; free it, or change mcpServers.${this.options.name}.oauth.callbackPort (the client registration must list the new port too)`);
        }
        throw error;
      }
    }
    const stored = this.options.oauth?.clientId ? undefined : await this.options.store.readClient(this.options.url);
    const storedPort = stored?.redirect_uri ? Number(new URL(stored.redirect_uri).port) : 0;
    if (storedPort) {
      try {
        return await startLoopbackListener(storedPort);
      } catch (error) {
        if (!(error instanceof CallbackPortInUseError)) throw error;
        this.log.info(`${error.message}; registering again with another port`);
        await this.options.store.delete(this.options.url, ['client']);
      }
    }
    return startLoopbackListener(0);
  }
}

/** Where `gateway auth login --paste` reads what the user pastes, and says what is wrong with it. */
export interface PasteReader {
  /** The next pasted line, after showing `prompt`; undefined when the input ended. */
  read(prompt: string): Promise<string | undefined>;
  say(message: string): Promise<void>;
}

/** Reads pasted redirect addresses until one is this login's; a wrong or stale one is refused with why. */
async function readPastedCode(paste: PasteReader, expect: CallbackExpectations): Promise<{ code: string; pasted: true; finish: () => Promise<void> }> {
  for (;;) {
    const text = (await paste.read('Paste the full address your browser ended on (http://127.0.0.1:…/callback?…): '))?.trim();
    if (text === undefined) throw new OAuthFlowError('paste_ended', 'the input ended before an address was pasted');
    if (!text) continue;
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      await paste.say('That is not an address. Copy the whole address from the browser\'s address bar, starting with http://127.0.0.1.');
      continue;
    }
    const verdict = judgeCallback(url.searchParams, expect);
    if (verdict.kind === 'fail') throw verdict.error;
    if (verdict.kind === 'reject') {
      await paste.say(`Refused: ${verdict.reason} Paste the address from the login you just approved (or press Ctrl-C).`);
      continue;
    }
    return { code: verdict.code, pasted: true, finish: async () => {} };
  }
}

/** browser.json: the recent automatic browser launches for a server, and whether the last one ended in a login. */
interface BrowserRecord {
  launches: number[];
  completed: boolean;
  /** When the last login failed (refused, timed out, rejected): no automatic tab for a minute after. */
  failed_at?: number;
}

function withBearer(init: RequestInit | undefined, token: string | undefined): RequestInit | undefined {
  if (!token) return init;
  const headers = new Headers(init?.headers);
  headers.set('authorization', `Bearer ${token}`);
  return { ...init, headers };
}

function lifetime(tokens: StoredTokens): number | undefined {
  return tokens.expires_at !== undefined ? tokens.expires_at - tokens.obtained_at : undefined;
}

function expiresSoon(tokens: StoredTokens): boolean {
  const life = lifetime(tokens);
  if (life === undefined || tokens.expires_at === undefined) return false;
  return Date.now() >= tokens.expires_at - Math.min(REFRESH_MARGIN_MS, life / 4);
}

function expired(tokens: StoredTokens): boolean {
  return tokens.expires_at !== undefined && Date.now() >= tokens.expires_at;
}

type TokenErrorKind = 'transient' | 'grant' | 'client' | 'fatal';

function classifyTokenError(error: unknown): TokenErrorKind {
  if (error instanceof TransientAuthError) return 'transient';
  if (error instanceof InvalidClientError || error instanceof UnauthorizedClientError) return 'client';
  // The grant itself is gone or no longer fits (scope or resource changed): a new login.
  if (error instanceof InvalidGrantError || error instanceof InvalidScopeError || error instanceof InvalidTargetError) return 'grant';
  if (error instanceof ServerError || error instanceof TemporarilyUnavailableError || error instanceof TooManyRequestsError) return 'transient';
  // A rule broken (non-Bearer token, oversize answer) or a request the server cannot take: retrying will not help, nor will a browser.
  if (error instanceof OAuthError || error instanceof UnsafeAuthorizationServerError || error instanceof OAuthFlowError) return 'fatal';
  // Network trouble, a malformed answer: try again later.
  return 'transient';
}

const MAX_ERROR_LENGTH = 400;

/**
 * The SDK's errors can carry the authorization server's raw response body: redacted before it
 * leaves, and cut short (an error page must not flood the log).
 */
function sanitize(error: unknown): Error {
  const clean = (text: string) => {
    const redacted = redact(text);
    return redacted.length > MAX_ERROR_LENGTH ? `${redacted.slice(0, MAX_ERROR_LENGTH)}… (cut)` : redacted;
  };
  const issues = (error as { issues?: Array<{ path: PropertyKey[]; message: string }> })?.issues;
  if (Array.isArray(issues)) {
    // The SDK checks answers with zod: say which field was wrong, in words.
    const what = issues.slice(0, 3).map((issue) => `${issue.path.map(String).join('.') || '(the whole answer)'}: ${issue.message}`);
    return new UnsafeAuthorizationServerError(clean(`an answer from the authorization server does not have the required form (${what.join('; ')})`));
  }
  if (error instanceof Error) {
    try {
      error.message = clean(error.message);
      return error;
    } catch {
      const copy = new Error(clean(error.message));
      copy.name = error.name;
      return copy;
    }
  }
  return new Error(clean(String(error)));
}
