import type { OAuthServerConfig } from '../../config/types.js';

/** The JWT bearer grant (RFC 7523 §2.1), by which an ID-JAG is redeemed at a server's authorization server. */
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** The token exchange grant (RFC 8693 §2.1), by which the identity provider issues an ID-JAG. */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
/** The token type of an Identity Assertion JWT Authorization Grant. */
export const ID_JAG_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id-jag';
/** The token type of an OpenID Connect ID token as a subject token (RFC 8693 §3). */
export const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';
/** The value an authorization server lists in `authorization_grant_profiles_supported` for ID-JAGs. */
export const ID_JAG_PROFILE = 'urn:ietf:params:oauth:grant-profile:id-jag';
/** The `typ` header of an ID-JAG. */
export const ID_JAG_TYP = 'oauth-id-jag+jwt';

/** How a server's tokens are had: a person's login, a machine's credentials, or an ID-JAG from the identity provider. */
export type ServerGrant = 'authorization_code' | 'client_credentials' | 'identity-assertion';

/** What of an authorization server's metadata (RFC 8414 §2) the choice reads. */
export interface GrantMetadata {
  grant_types_supported?: string[];
  authorization_grant_profiles_supported?: string[];
}

/**
 * The grant for one server: what `oauth.grant` says; unset, the identity assertion when an
 * identity provider is configured and the server's authorization server accepts ID-JAGs (the
 * JWT bearer grant in `grant_types_supported`, or the ID-JAG profile in
 * `authorization_grant_profiles_supported`), else a person's login.
 * @see [MCP Enterprise-Managed Authorization §6](https://github.com/modelcontextprotocol/ext-auth/blob/main/specification/stable/enterprise-managed-authorization.mdx), [RFC 8414 §2](https://www.rfc-editor.org/rfc/rfc8414.html#section-2)
 */
export function chooseServerGrant(
  oauth: OAuthServerConfig | undefined,
  metadata: GrantMetadata | undefined,
  hasIdentityProvider: boolean,
): ServerGrant {
  if (oauth?.grant) return oauth.grant;
  return hasIdentityProvider && acceptsIdJag(metadata) ? 'identity-assertion' : 'authorization_code';
}

export function acceptsIdJag(metadata: GrantMetadata | undefined): boolean {
  return Boolean(
    metadata?.grant_types_supported?.includes(JWT_BEARER_GRANT) ||
    metadata?.authorization_grant_profiles_supported?.includes(ID_JAG_PROFILE),
  );
}

/**
 * Whether a server the identity provider refused may be logged in to in the browser instead:
 * only when the user left the choice to the gateway (`oauth.grant` unset) and the authorization
 * server offers the code grant (listed, or no list at all: RFC 8414 §2's default is
 * `["authorization_code", "implicit"]`).
 * @see [RFC 8414 §2](https://www.rfc-editor.org/rfc/rfc8414.html#section-2)
 */
export function mayFallBackToBrowser(oauth: OAuthServerConfig | undefined, metadata: GrantMetadata | undefined): boolean {
  if (oauth?.grant) return false;
  const listed = metadata?.grant_types_supported;
  return listed === undefined || listed.includes('authorization_code');
}
