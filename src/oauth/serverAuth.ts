import { EventEmitter } from 'node:events';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { OAuthServerConfig } from '../config/types.js';
import type { Logger } from '../log/logger.js';
import { registerSecret } from '../log/redact.js';
import { createAuthContext, type AuthContext } from './authContext.js';
import { bearerFetch } from './bearerFetch.js';
import { LaunchLog } from './browserLaunches.js';
import { clientCredentialsTokens } from './clientCredentialsGrant.js';
import { deviceLoginTokens } from './deviceLogin.js';
import { FlowLog } from './flowLog.js';
import { GatewayOAuthProvider } from './gatewayOAuthProvider.js';
import { interactiveLogin, type LoginOptions } from './interactiveLogin.js';
import { DEFAULT_CALLBACK_TIMEOUT_MS } from './loopbackListener.js';
import { createOAuthFetch } from './oauthFetch.js';
import { LoginRequiredError } from '../shared/errors.js';
import { LoginSteps } from './loginSteps.js';
import { NetworkPolicy } from './networkPolicy.js';
import { showAuthorizationUrl } from './openBrowser.js';
import type { PasteReader } from './pastedCode.js';
import { probeServer } from './probeServer.js';
import { refreshedTokens } from './refreshGrant.js';
import { ServerChallenges } from './serverChallenges.js';
import { TokenSession } from './tokenSession.js';
import type { StoredTokens, TokenStore } from './tokenStore.js';
import { expired } from './tokenTiming.js';

export { BROWSER_LAUNCH_INTERVAL_MS } from './browserLaunches.js';
export type { PasteReader } from './pastedCode.js';

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

  constructor(private readonly options: ServerAuthOptions) {
    super();
    this.provider = new GatewayOAuthProvider(options.url, options.store, options.oauth, (tokens) => this.session.adopt(tokens));
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
    this.session = new TokenSession({
      url: options.url,
      store: options.store,
      flows: this.flows,
      grants: {
        machine: this.machine,
        clientCredentials: () => clientCredentialsTokens(this.context, this.refreshAttempts),
        refresh: (refreshToken, held) => refreshedTokens(this.context, refreshToken, held),
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

  /** Reads the stored tokens again: on every (re)connect, so logins from other processes and earlier runs are used. */
  reload(): Promise<void> {
    return this.session.reload();
  }

  /** The fetch for this server's MCP traffic. */
  authorizedFetch(base: FetchLike): FetchLike {
    return bearerFetch(base, {
      origin: new URL(this.options.url).origin,
      accessToken: () => this.session.accessToken(),
      renewable: () => this.session.renewable,
      refresh: (rejected) => this.session.refresh(rejected),
      unauthorized: (header) => this.challenges.unauthorized(header),
      forbidden: (header) => this.challenges.forbidden(header, this.flows.log),
      answered: (token, status) => this.tokenAnswered(token, status),
    });
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
    if (this.machine) {
      await store.withLock(url, () => this.flows.run('login', () => this.session.renewByClientCredentials()));
      return;
    }
    if (this.options.headless) throw new LoginRequiredError(headlessLoginMessage(name));
    const login = async () => {
      const onDisk = await store.readTokens(url);
      if (!force && onDisk && onDisk.access_token !== rejected && !expired(onDisk)) {
        this.session.useStored(onDisk);
        this.flows.log.info('using the login another gateway process just completed');
        return;
      }
      if (!force) await this.launches.check(name);
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

  /** `oauth.grant: "client_credentials"`: a machine's server, which never involves a person or a browser. */
  private get machine(): boolean {
    return this.options.oauth?.grant === 'client_credentials';
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
      show: (authorizationUrl) => this.showLoginUrl(authorizationUrl),
    };
  }

  /** The 'login-url' event, then the MCP client's elicitation if it takes the URL, else a browser here (or the URL printed). */
  private async showLoginUrl(authorizationUrl: string): Promise<void> {
    const { name, noBrowser, env } = this.options;
    // The authorization endpoint is named by the authorization server: the browser is not sent into a private network either.
    await this.network.checkUrl(new URL(authorizationUrl), 'the authorization endpoint');
    this.emit('login-url', authorizationUrl);
    if (this.options.presentLoginUrl?.(authorizationUrl)) {
      this.flows.log.info(`asked the MCP client to open the login page for ${name}; waiting for the login to finish…`);
    } else {
      await showAuthorizationUrl(authorizationUrl, name, this.flows.log, { noBrowser, env });
    }
  }
}

function headlessLoginMessage(name: string): string {
  return (
    `${name} needs a login and this gateway runs headless (--headless), so no browser is opened here; ` +
    `run \`gateway auth login ${name}\` on a machine with a browser, then \`gateway auth export ${name} --move --out FILE\` there ` +
    `and \`gateway auth import FILE\` here (or copy the token store directory), and restart`
  );
}
