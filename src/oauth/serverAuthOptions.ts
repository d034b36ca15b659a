import type { OAuthServerConfig } from '../config/types.js';
import type { Logger } from '../log/logger.js';
import type { IdentityProvider } from './identity/identityProvider.js';
import type { StoredTokens, TokenStore } from './tokenStore.js';

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
  /** The command that logs in to this one by hand, for messages (default `gateway auth login <name>`). */
  loginCommand?: string;
  /** An OpenID Connect sign-in (the identity provider): a `nonce` in each authorization request; tokens checked before they are kept. */
  openId?: { check(tokens: StoredTokens, nonce: string | undefined): Promise<StoredTokens> };
  /** The enterprise identity provider, when configured: servers that accept ID-JAGs get their tokens through it (see grant). */
  identity?: IdentityProvider;
}
