import { EventEmitter } from 'node:events';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { registerSecret } from '../log/redact.js';
import { createAuthContext, type AuthContext } from './authContext.js';
import { bearerFetch, type BearerSource } from './bearerFetch.js';
import { LaunchLog } from './browserLaunches.js';
import { clientCredentialsTokens } from './clientCredentialsGrant.js';
import type { OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import { identityAssertionTokens } from './identity/identityAssertionGrant.js';
import { chooseServerGrant, mayFallBackToBrowser, type ServerGrant } from './identity/identityGrants.js';
import { deviceLoginTokens } from './deviceLogin.js';
import { FlowLog } from './flowLog.js';
import { GatewayOAuthProvider } from './gatewayOAuthProvider.js';
import { interactiveLogin, type LoginOptions } from './interactiveLogin.js';
import { DEFAULT_CALLBACK_TIMEOUT_MS } from './loopbackListener.js';
import { createOAuthFetch } from './oauthFetch.js';
import { IdentityAssertionDeniedError, LoginRequiredError } from '../shared/errors.js';
import { LoginSteps } from './loginSteps.js';
import { NetworkPolicy } from './networkPolicy.js';
import { headlessLoginMessage, showLoginUrl } from './loginUrlDisplay.js';
import type { PasteReader } from './pastedCode.js';
import { probeServer } from './probeServer.js';
import { refreshedTokens } from './refreshGrant.js';
import { ServerChallenges } from './serverChallenges.js';
import type { ServerAuthOptions } from './serverAuthOptions.js';
import { TokenSession } from './tokenSession.js';
import type { StoredTokens } from './tokenStore.js';
import { expired } from './tokenTiming.js';

export { BROWSER_LAUNCH_INTERVAL_MS } from './browserLaunches.js';
export type { PasteReader } from './pastedCode.js';
export type { ServerAuthOptions } from './serverAuthOptions.js';

/**
 * The OAuth side of one HTTP server, a facade over its steps:
 * - `authorizedFetch` (see bearerFetch) sends the token to the server's own origin, refreshed
 *   shortly before expiry, and on a 401 refreshes once and retries;
 * - the TokenSession loads, saves and refreshes the tokens, under the store's per-server lock
 *   across processes; transient refresh failures are retried and never lead to a browser;
 * - `login()` runs the interactive code grant (see interactiveLogin) under that lock, at most as
 *   often as the LaunchLog allows (a login counts as completed there once the server has
 *   not refused its token, see tokenAnswered); `deviceLogin()` the device grant; a `client_credentials`
 *   server the client credentials grant instead;
 * - ServerChallenges remembers what the server's 401 and 403 answers asked for.
 */
export class ServerAuth extends EventEmitter<{ 'login-url': [string] }> {
  readonly provider: GatewayOAuthProvider;
  private readonly flows: FlowLog;
  private readonly challenges = new ServerChallenges();
  private readonly session: TokenSession;
  private readonly launches: LaunchLog;
  private readonly context: AuthContext;
  /** Which networks URLs learned from this server may lead into (see NetworkPolicy). */
  private readonly network: NetworkPolicy;
  /** Ends a login in progress when the server is closed (a config edit, shutdown). */
  private readonly closing = new AbortController();
  private loggingIn?: Promise<void>;
  /** The access token the last login in this process got, until the server answers it (see tokenAnswered). */
  private freshToken?: string;
  /** How this server's tokens are had (see chooseServerGrant), once decided. */
  private chosenGrant?: ServerGrant;

  constructor(private readonly options: ServerAuthOptions) {
    super();
    const arrived = async (tokens: StoredTokens) =>
      this.session.adopt(options.openId ? await options.openId.check(tokens, this.provider.nonce) : tokens);
    this.provider = new GatewayOAuthProvider(options.url, options.store, options.oauth, arrived, Boolean(options.openId));
    if (options.oauth?.clientSecret) registerSecret(options.oauth.clientSecret);
    this.flows = new FlowLog(options.log);
    const steps = new LoginSteps();
    this.network = new NetworkPolicy([options.url, options.oauth?.authServerMetadataUrl]);
    this.context = createAuthContext({
      ...options,
      provider: this.provider,
      steps,
      fetchFn: steps.fetch(createOAuthFetch(undefined, { network: this.network }), () => this.challenges.resourceMetadata),
      flows: this.flows,
      challenges: this.challenges,
      held: () => this.session.tokens,
      network: this.network,
    });
    this.launches = new LaunchLog(options.store, options.url);
    if (options.oauth?.grant || !options.identity) this.chosenGrant = options.oauth?.grant ?? 'authorization_code';
    this.session = new TokenSession({
      url: options.url,
      store: options.store,
      flows: this.flows,
      grants: {
        renewsByGrant: () => this.chosenGrant === 'client_credentials' || this.chosenGrant === 'identity-assertion',
        renew: (interactive) =>
          this.chosenGrant === 'identity-assertion'
            ? identityAssertionTokens(this.context, options.identity, interactive, this.refreshAttempts)
            : clientCredentialsTokens(this.context, this.refreshAttempts),
        refresh: async (refreshToken, held) => {
          const tokens = await refreshedTokens(this.context, refreshToken, held);
          return options.openId ? options.openId.check(tokens, undefined) : tokens;
        },
      },
      refreshAttempts: this.refreshAttempts,
      lockTimeoutMs: this.callbackTimeoutMs + 30_000,
      configuredClient: Boolean(options.oauth?.clientId),
    });
  }

  /**
   * Asks the server, without a token, what it wants: the `WWW-Authenticate` of its 401
   * (resource metadata URL, scope) is remembered for the next login. Returns the status.
   */
  async probe(timeoutMs = 10_000): Promise<number> {
    const { status, challenge } = await probeServer(this.options.url, timeoutMs);
    if (status === 401) this.challenges.unauthorized(challenge);
    return status;
  }

  /** Whether tokens are held (not whether they still work). */
  get hasTokens(): boolean {
    return this.session.tokens !== undefined;
  }

  /** The tokens held (the identity provider's session reads its ID token here). */
  get tokens(): StoredTokens | undefined {
    return this.session.tokens;
  }

  /** The authorization server, discovered once and kept. */
  discovery(): Promise<OAuthDiscoveryState> {
    return this.context.discovery();
  }

  /**
   * How this server's tokens are had: `oauth.grant`, else (with an identity provider) the
   * identity assertion where the authorization server accepts ID-JAGs (see chooseServerGrant).
   */
  async grant(): Promise<ServerGrant> {
    this.chosenGrant ??= chooseServerGrant(this.options.oauth, (await this.discovery()).authorizationServerMetadata, true);
    return this.chosenGrant;
  }

  /** Reads the stored tokens again: on every (re)connect, so logins from other processes and earlier runs are used. */
  reload(): Promise<void> {
    return this.session.reload();
  }

  /** The fetch for this server's MCP traffic. */
  authorizedFetch(base: FetchLike): FetchLike {
    return bearerFetch(base, this.bearer());
  }

  /** The server's token and what its answers say about it, for a request sent with it (bearerFetch, and the relay's own POST). */
  bearer(): BearerSource {
    return {
      origin: new URL(this.options.url).origin,
      accessToken: () => this.session.accessToken(),
      renewable: () => this.session.renewable,
      refresh: (rejected) => this.session.refresh(rejected),
      unauthorized: (header) => this.challenges.unauthorized(header),
      forbidden: (header) => this.challenges.forbidden(header, this.flows.log),
      answered: (token, status) => this.tokenAnswered(token, status),
    };
  }

  /**
   * The server refused `token` (401): if a login in this process just got it, that login does not
   * count as completed for the browser-launch limit (a server that refuses every fresh token
   * opens no further tab within the minute, here or in another process sharing the store).
   */
  private async tokenAnswered(token: string, status: number): Promise<void> {
    if (!this.freshToken || token !== this.freshToken) return;
    this.freshToken = undefined;
    if (status === 401) await this.launches.obtained(this.flows.log);
  }

  /** Whether a step-up login is due (and, by asking, it is no longer pending). */
  takeStepUp(): boolean {
    return this.challenges.takeStepUp();
  }

  /** Why the last 403 `insufficient_scope` brings no new login (see ServerChallenges.noStepUp). */
  get noStepUp(): string | undefined {
    return this.challenges.noStepUp;
  }

  /** Before connecting: the stored tokens loaded and, if they expire soon, refreshed (outside any connect timeout). */
  async ensureFresh(): Promise<void> {
    if (this.options.identity && this.session.tokens) await this.grant().catch(() => undefined); // Known before an expired token is judged.
    await this.session.accessToken();
  }

  /** See TokenSession.refresh: undefined when a login is needed. */
  refresh(rejected: string | undefined): Promise<StoredTokens | undefined> {
    return this.session.refresh(rejected);
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
    const { store, url, name } = this.options;
    const rejected = this.session.tokens?.access_token;
    if (this.chosenGrant === 'client_credentials') {
      await store.withLock(url, () => this.flows.run('login', () => this.session.renewByGrant(false)));
      return;
    }
    if ((await this.grant()) === 'identity-assertion' && (await this.loggedInByIdentity(rejected))) return;
    if (this.options.headless) throw new LoginRequiredError(headlessLoginMessage(name, this.options.loginCommand));
    const login = async () => {
      if (!force && (await this.siblingLoggedIn(rejected))) return;
      if (!force) await this.launches.check(name, Date.now(), this.options.loginCommand);
      await interactiveLogin(this.context, this.loginOptions(), paste);
    };
    try {
      await store.withLock(url, () => this.flows.run('login', login), { timeoutMs: this.callbackTimeoutMs + 60_000 });
    } finally {
      this.freshToken = this.session.tokens?.access_token;
    }
  }

  /** `gateway auth login --device`: the device authorization grant (RFC 8628), see deviceLoginTokens. */
  deviceLogin(show: (text: string) => void): Promise<void> {
    return this.options.store.withLock(this.options.url, () =>
      this.flows.run('login', async () => {
        await this.session.adopt(await deviceLoginTokens(this.context, show));
        this.flows.log.info(`logged in to ${this.options.name} with the device flow`);
      }),
    );
  }

  /**
   * On shutdown or when the server is removed: a login in progress ends (without counting as
   * a failed one), and one last try to save tokens that could not be saved.
   */
  async close(): Promise<void> {
    this.closing.abort();
    await this.session.close();
  }

  /**
   * The identity assertion as this server's login: no browser for it (the identity provider's
   * one sign-in, if due, shows its URL as this server's too). Refused by the identity provider,
   * false when a browser login may stand in (see mayFallBackToBrowser), else the refusal.
   */
  private async loggedInByIdentity(rejected: string | undefined): Promise<boolean> {
    const { store, url, name, identity, oauth } = this.options;
    const forward = (loginUrl: string) => this.emit('login-url', loginUrl);
    identity?.on('login-url', forward);
    try {
      const renew = async () => (await this.siblingLoggedIn(rejected)) || (await this.session.renewByGrant(true));
      await store.withLock(url, () => this.flows.run('login', renew));
      return true;
    } catch (error) {
      const metadata = (await this.discovery()).authorizationServerMetadata;
      if (!(error instanceof IdentityAssertionDeniedError) || !mayFallBackToBrowser(oauth, metadata)) throw error;
      this.flows.log.warn(
        `${error.message}; its authorization server also offers a login in the browser, so logging in to ${name} there instead`,
      );
      this.chosenGrant = 'authorization_code';
      return false;
    } finally {
      identity?.off('login-url', forward);
    }
  }

  /** Whether another gateway process logged in while this one waited for the lock: its tokens are used. */
  private async siblingLoggedIn(rejected: string | undefined): Promise<boolean> {
    const onDisk = await this.options.store.readTokens(this.options.url);
    if (!onDisk || onDisk.access_token === rejected || expired(onDisk)) return false;
    this.session.useStored(onDisk);
    this.flows.log.info('using the login another gateway process just completed');
    return true;
  }

  private get refreshAttempts(): number {
    return this.options.refreshAttempts ?? 4;
  }

  private get callbackTimeoutMs(): number {
    return this.options.callbackTimeoutMs ?? DEFAULT_CALLBACK_TIMEOUT_MS;
  }

  private loginOptions(): LoginOptions {
    return {
      launches: this.launches,
      closing: this.closing.signal,
      callbackTimeoutMs: this.options.callbackTimeoutMs,
      show: (authorizationUrl) =>
        showLoginUrl(authorizationUrl, {
          ...this.options,
          network: this.network,
          log: this.flows.log,
          emit: (url) => this.emit('login-url', url),
        }),
    };
  }
}
