import type { DownstreamState } from '../downstream/downstreamState.js';
import type { StoredTokens } from '../oauth/tokenStore.js';
import { describeExpiry } from './describeLogin.js';
import { fail, ok, warn, type Finding } from './doctorChecks.js';

/** What doctor knows of one HTTP server's login: stored before and after connecting, and how connecting went. */
export interface LoginFacts {
  name: string;
  /** The stored login before doctor connected. */
  before?: StoredTokens;
  /** The stored login after (renewed, or deleted when its refresh was refused). */
  after?: StoredTokens;
  /** The server answered the static check with HTTP 401. */
  asksForLogin: boolean;
  state: DownstreamState;
}

/**
 * Whether connecting ended on a login that is needed: doctor connects headless, where the
 * auth layer (serverAuth.ts, LoginRequiredError) says the server "needs a login" instead of
 * opening a browser.
 */
export function needsLogin(state: DownstreamState): boolean {
  return state.status === 'needs-auth' || (state.status === 'failed' && state.code === 'login_required');
}

/** The login finding of an HTTP server, if it has or wants one. A login that stopped working is a problem. */
export function loginFinding(facts: LoginFacts): Finding | undefined {
  const relogin = `gateway auth login ${facts.name}`;
  if (needsLogin(facts.state)) {
    return facts.before
      ? fail('the stored login was refused and could not be renewed (revoked at the server, or expired without a refresh token)', relogin)
      : warn('not logged in yet', `${relogin} (or let serve/list open the browser)`);
  }
  const tokens = facts.after ?? facts.before;
  if (tokens) {
    if (tokens.expires_at !== undefined && tokens.expires_at <= Date.now() && !tokens.refresh_token) {
      return fail(`logged in, but ${describeExpiry(tokens)} and there is no refresh token`, relogin);
    }
    return ok(`logged in; ${describeExpiry(tokens)}${tokens.refresh_token ? '; a refresh token renews it' : ''}`);
  }
  return facts.asksForLogin ? warn('not logged in yet', `${relogin} (or let serve/list open the browser)`) : undefined;
}
