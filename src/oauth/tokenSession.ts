import { errorMessage } from '../log/logger.js';
import { redact, registerSecret } from '../log/redact.js';
import { backoffDelay } from './backoff.js';
import type { FlowLog } from './flowLog.js';
import { GatewayError, OAuthFlowError } from '../shared/errors.js';
import { classifyTokenError, withTransientRetries } from './tokenErrors.js';
import type { StoredTokens, TokenStore } from './tokenStore.js';
import { expired, expiresSoon } from './tokenTiming.js';

/** How new tokens are had without a person: the grants a session renews its tokens with. */
export interface RenewalGrants {
  /**
   * Whether the tokens are renewed by asking again rather than by a refresh token: the client
   * credentials grant (a machine), or a new ID-JAG (Enterprise-Managed Authorization). Read at each
   * use: for the identity assertion it is known once the authorization server is discovered.
   */
  renewsByGrant(): boolean;
  /** New tokens by that grant; `interactive`: a sign-in at the identity provider may start (never from a refresh). */
  renew(interactive: boolean): Promise<StoredTokens>;
  refresh(refreshToken: string, held: StoredTokens | undefined): Promise<StoredTokens>;
}

export interface TokenSessionOptions {
  url: string;
  store: TokenStore;
  flows: FlowLog;
  grants: RenewalGrants;
  /** Tries of one refresh before it is reported as failed (transient errors only). */
  refreshAttempts: number;
  lockTimeoutMs: number;
  /** The client is the config's (`oauth.clientId`): an `invalid_client` drops the tokens, not a registration. */
  configuredClient: boolean;
}

/**
 * One server's tokens, in memory and in the store: loaded, kept fresh, and saved.
 * - Tokens are persisted before they are used, so a rotated refresh token is never lost; a
 *   store that cannot be written keeps them in memory and saves again later.
 * - Refreshes run one at a time in this process, under the store's per-server lock across
 *   processes: whoever gets the lock re-reads the store first, so gateway processes sharing a
 *   store never replay a rotated refresh token.
 * - Transient refresh failures are retried with backoff; a refused grant drops the tokens (a
 *   login is needed), a refused client drops its registration too.
 */
export class TokenSession {
  private held?: StoredTokens;
  private loaded = false;
  private unsaved = false;
  private saveRetry?: NodeJS.Timeout;
  private refreshing?: Promise<StoredTokens | undefined>;

  constructor(private readonly options: TokenSessionOptions) {}

  get tokens(): StoredTokens | undefined {
    return this.held;
  }

  /** Whether the tokens can be renewed without a person (a refresh token, or a grant asked again: see RenewalGrants). */
  get renewable(): boolean {
    return Boolean(this.held?.refresh_token) || this.options.grants.renewsByGrant();
  }

  private get log() {
    return this.options.flows.log;
  }

  /** Reads the stored tokens again (unless what is held is newer than the store: not saved yet). */
  async reload(): Promise<void> {
    if (this.unsaved) return;
    this.held = await this.options.store.readTokens(this.options.url);
    this.loaded = true;
    if (this.held) registerSecrets(this.held);
  }

  /** The access token to send now: loaded on first use, refreshed shortly before it expires. */
  async accessToken(): Promise<string | undefined> {
    if (!this.loaded) await this.reload();
    const tokens = this.held;
    if (!tokens) return undefined;
    if (!expiresSoon(tokens)) return tokens.access_token;
    if (!this.renewable) return expired(tokens) ? undefined : tokens.access_token;
    return (await this.refresh(tokens.access_token))?.access_token;
  }

  /** Tokens another gateway process stored (a login it just completed): used as they are. */
  useStored(tokens: StoredTokens): void {
    this.held = tokens;
  }

  /**
   * Makes tokens current: persisted before they are used, and if the store cannot be written,
   * kept in memory and saved again later.
   */
  async adopt(tokens: StoredTokens): Promise<void> {
    registerSecrets(tokens);
    this.held = tokens;
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

  /** A new token by the session's grant (at login, and whenever the current one expires or is refused): see RenewalGrants. */
  async renewByGrant(interactive: boolean): Promise<StoredTokens> {
    const tokens = await this.options.grants.renew(interactive);
    await this.adopt(tokens);
    this.log.info('got a new access token by the grant (no refresh token, no browser)');
    return tokens;
  }

  /** Renewal by the grant from a refresh: a sign-in it would need (at the identity provider) means "a login is needed", undefined. */
  private async renewSilently(): Promise<StoredTokens | undefined> {
    try {
      return await this.renewByGrant(false);
    } catch (error) {
      if (!(error instanceof GatewayError) || error.retry !== 'needs-login') throw error;
      this.log.warn(`${redact(errorMessage(error))}; a login is needed`);
      return undefined;
    }
  }

  /**
   * Refreshes the tokens. `rejected` is the access token that failed or is expiring: if the
   * store already holds another, a sibling refreshed first and that one is used. Resolves
   * undefined when the refresh token is no longer good (a login is needed); throws
   * TransientAuthError when the authorization server could not be reached.
   */
  refresh(rejected: string | undefined): Promise<StoredTokens | undefined> {
    const { store, url, flows, lockTimeoutMs } = this.options;
    this.refreshing ??= store
      .withLock(url, () => flows.run('refresh', () => this.refreshLocked(rejected)), { timeoutMs: lockTimeoutMs })
      .finally(() => {
        this.refreshing = undefined;
      });
    return this.refreshing;
  }

  private async refreshLocked(rejected: string | undefined): Promise<StoredTokens | undefined> {
    await this.takeNewerFromStore();
    const current = this.held;
    if (current && current.access_token !== rejected && !expiresSoon(current)) return current;
    if (this.options.grants.renewsByGrant()) return this.renewSilently();
    if (!current?.refresh_token) return undefined;
    try {
      const refreshToken = current.refresh_token;
      const tokens = await withTransientRetries(
        'token refresh',
        () => this.options.grants.refresh(refreshToken, this.held),
        this.options.refreshAttempts,
        () => this.log,
      );
      await this.adopt(tokens);
      this.log.info('refreshed the access token');
      return tokens;
    } catch (error) {
      return this.refreshFailed(error);
    }
  }

  /** A sibling process may have refreshed (or logged in) since this one read the store. */
  private async takeNewerFromStore(): Promise<void> {
    if (this.unsaved) return;
    const onDisk = await this.options.store.readTokens(this.options.url);
    if (onDisk && (!this.held || onDisk.obtained_at >= this.held.obtained_at)) this.held = onDisk;
  }

  /** What a refused refresh means (see classifyTokenError): retry later, give up, or drop what the server no longer accepts. */
  private async refreshFailed(error: unknown): Promise<undefined> {
    const kind = classifyTokenError(error);
    if (kind === 'transient') throw error;
    if (kind === 'fatal')
      throw new OAuthFlowError(
        'refresh_refused',
        `the token refresh was refused and retrying will not help: ${redact(errorMessage(error))}`,
        { cause: error },
      );
    if (kind === 'client') {
      this.log.warn('the authorization server no longer knows this client (invalid_client); registering again at the next login');
      await this.options.store.delete(this.options.url, this.options.configuredClient ? ['tokens'] : ['tokens', 'client']);
    } else {
      this.log.warn(`the refresh token was refused (${redact(errorMessage(error)) || 'invalid_grant'}); a new login is needed`);
      await this.options.store.delete(this.options.url, ['tokens']);
    }
    this.held = undefined;
    return undefined;
  }

  private scheduleSaveRetry(attempt = 0): void {
    clearTimeout(this.saveRetry);
    this.saveRetry = setTimeout(
      async () => {
        if (!this.unsaved || !this.held) return;
        try {
          await this.options.store.writeTokens(this.options.url, this.held);
          this.unsaved = false;
          this.log.info('saved the tokens that could not be saved before');
        } catch {
          this.scheduleSaveRetry(attempt + 1);
        }
      },
      backoffDelay(attempt, 1000, 60_000),
    );
    this.saveRetry.unref();
  }

  /** On shutdown: no more save retries, and one last try to save tokens that could not be saved. */
  async close(): Promise<void> {
    clearTimeout(this.saveRetry);
    if (!this.unsaved || !this.held) return;
    try {
      await this.options.store.writeTokens(this.options.url, this.held);
      this.unsaved = false;
    } catch (error) {
      this.log.error(`could not save the tokens before exiting (${errorMessage(error)}); the next start may need a login`);
    }
  }
}

function registerSecrets(tokens: StoredTokens): void {
  registerSecret(tokens.access_token);
  registerSecret(tokens.refresh_token);
}
