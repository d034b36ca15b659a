/**
 * Which scopes a login asks for: a pure decision over what the server and the config say.
 * @see [MCP 2025-11-25 Authorization, Scope Selection Strategy](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#scope-selection-strategy)
 */
export interface ScopeSources {
  /** The `scope` of the server's last 401 `WWW-Authenticate` (RFC 6750 §3). */
  challenged?: string;
  /** Everything 403 `insufficient_scope` answers asked for (RFC 6750 §3.1): a step-up. */
  stepUp?: string;
  /** The scope of the tokens held (kept in a step-up, so the new grant loses nothing). */
  held?: string;
  /** The protected resource metadata's `scopes_supported` (RFC 9728 §2); an empty list means "no scope". */
  resourceScopes?: string[];
  /** `oauth.scopes` of the config: used only when the resource metadata names none. */
  configured?: string[];
  /** The authorization server metadata's `scopes_supported` (RFC 8414 §2). */
  serverScopes?: string[];
  /** The client credentials grant (no person, so no refresh token to ask for). */
  machine: boolean;
}

/**
 * The scope of a login: the 401's (or a 403's step-up, joined to the scopes held), else the
 * resource metadata's scopes_supported (an empty list: none), else the config's; plus
 * `offline_access` when the authorization server lists it (so a refresh token is issued).
 * Nothing named anywhere: undefined, and no scope parameter is sent at all.
 */
export function loginScope(sources: ScopeSources): string | undefined {
  let scopes = words(sources.challenged ?? baseScope(sources));
  if (sources.stepUp) scopes = unionOfScopes(sources.held, scopes.join(' '), sources.stepUp);
  // Refresh tokens come with a person's grant (OpenID Connect Core §11); the client credentials grant gets none (RFC 6749 §4.4.3).
  if (!sources.machine && sources.serverScopes?.includes('offline_access') && !scopes.includes('offline_access'))
    scopes.push('offline_access');
  return scopes.length ? scopes.join(' ') : undefined;
}

/** Without a challenge: the resource metadata's list (present, even empty, it wins), else the config's. */
function baseScope({ resourceScopes, configured }: ScopeSources): string | undefined {
  return resourceScopes !== undefined ? resourceScopes.join(' ') : configured?.join(' ');
}

/** Space-separated scope strings joined into one list, each scope once, in first-seen order (RFC 6749 §3.3). */
export function unionOfScopes(...lists: Array<string | undefined>): string[] {
  return [...new Set(lists.flatMap(words))];
}

function words(scope: string | undefined): string[] {
  return (scope ?? '').split(' ').filter(Boolean);
}
