import { fetchToken, type OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import { InvalidGrantError, OAuthError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type { AuthContext } from '../authContext.js';
import { clientAuthenticator } from '../clientAuthentication.js';
import { sanitize } from '../sanitizeError.js';
import { classifyTokenError, withTransientRetries } from '../tokenErrors.js';
import { storedTokensFrom, type StoredTokens } from '../tokenStore.js';
import { IdentityAssertionDeniedError, IdentityAssertionRejectedError, OAuthFlowError } from '../../shared/errors.js';
import type { IdentityProvider } from './identityProvider.js';
import { ID_TOKEN_TYPE, JWT_BEARER_GRANT } from './identityGrants.js';
import { exchangeForIdJag } from './tokenExchange.js';

/** The IdP's refusals that mean "not granted to this user for this server" (RFC 6749 §5.2, RFC 8707 §2, RFC 8693 §2.2.2). */
const DENIALS = new Set(['access_denied', 'invalid_target', 'invalid_grant', 'invalid_scope', 'unauthorized_client']);

/** What one server's grant is for: the authorization server's issuer, the server's resource, the scope. */
interface Target {
  audience: string;
  resource?: string;
  scope?: string;
}

/**
 * Tokens for one server by Enterprise-Managed Authorization: an ID-JAG from the identity
 * provider (token exchange of the user's ID token, for this server's authorization server and
 * resource), redeemed at the server's authorization server with the JWT bearer grant. The ID-JAG
 * is never stored: each renewal asks the IdP again. `interactive`: an expired IdP session may
 * start its (one) sign-in; otherwise it fails with IdentitySignInRequiredError. Transient failures
 * are retried as a whole (a new ID-JAG each time: the authorization server refuses a replayed one).
 * @see [MCP Enterprise-Managed Authorization §4, §5](https://github.com/modelcontextprotocol/ext-auth/blob/main/specification/stable/enterprise-managed-authorization.mdx), [ID-JAG §4.4.3](https://www.ietf.org/archive/id/draft-ietf-oauth-identity-assertion-authz-grant-02.html#section-4.4.3)
 */
export async function identityAssertionTokens(
  ctx: AuthContext,
  idp: IdentityProvider | undefined,
  interactive: boolean,
  attempts: number,
): Promise<StoredTokens> {
  if (!idp)
    throw new OAuthFlowError(
      'no_identity_provider',
      `${ctx.name} uses the identity assertion grant, but gateway.identityProvider is not configured`,
    );
  const discovery = await ctx.discovery();
  const target: Target = {
    audience: discovery.authorizationServerMetadata!.issuer,
    resource: ctx.resource(discovery),
    scope: grantScope(ctx, discovery),
  };
  return withTransientRetries(
    `the identity assertion grant for ${ctx.name}`,
    async () => redeemIdJag(ctx, discovery, await issueIdJag(ctx, idp, target, interactive), target),
    attempts,
    () => ctx.log,
  );
}

/** The scope asked for, as for a login, without `offline_access`: the profile renews by a new ID-JAG, not a refresh token (ID-JAG §4.4.3). */
function grantScope(ctx: AuthContext, discovery: OAuthDiscoveryState): string | undefined {
  const scopes = (ctx.scope(discovery) ?? '').split(' ').filter((scope) => scope && scope !== 'offline_access');
  return scopes.length ? scopes.join(' ') : undefined;
}

/**
 * The ID-JAG for `target` from the identity provider. An ID token the IdP refuses
 * (`invalid_grant`: its session ended early) is renewed once (a refresh, else a sign-in), then
 * the refusal stands; any refusal is explained for this server (see explainIdpRefusal).
 */
async function issueIdJag(ctx: AuthContext, idp: IdentityProvider, target: Target, interactive: boolean): Promise<string> {
  const { url: tokenEndpoint, metadata } = await idp.tokenEndpoint();
  const { client, sign } = idp.client();
  let stale: string | undefined;
  for (;;) {
    const subjectToken = await idp.idToken({ interactive, stale });
    try {
      const issued = await exchangeForIdJag({
        tokenEndpoint,
        subjectToken,
        subjectTokenType: ID_TOKEN_TYPE,
        ...target,
        client,
        sign,
        metadata,
        authMethods: metadata?.token_endpoint_auth_methods_supported,
        fetchFn: idp.fetchFn,
      });
      ctx.log.info(`the identity provider issued an ID-JAG for ${ctx.name}${issued.scope ? ` (scope ${issued.scope})` : ''}; redeeming it`);
      return issued.assertion;
    } catch (error) {
      if (error instanceof InvalidGrantError && stale === undefined && !idp.givenIdToken) {
        ctx.log.info('the identity provider refused the ID token (invalid_grant); renewing the sign-in once');
        stale = subjectToken;
        continue;
      }
      throw explainIdpRefusal(ctx.name, error);
    }
  }
}

/**
 * The JWT bearer grant at the server's authorization server with the ID-JAG as `assertion`,
 * the client authenticating as the one chooser decides (the registered client: `oauth.clientId`
 * with its secret or key, or a client ID metadata document), the resource indicator as in every
 * token request. A refusal is explained as a broken trust between the two.
 * @see [RFC 7523 §2.1](https://www.rfc-editor.org/rfc/rfc7523.html#section-2.1), [ID-JAG §4.4](https://www.ietf.org/archive/id/draft-ietf-oauth-identity-assertion-authz-grant-04.html#section-4.4)
 */
async function redeemIdJag(ctx: AuthContext, discovery: OAuthDiscoveryState, assertion: string, target: Target): Promise<StoredTokens> {
  const client = await ctx.provider.clientInformation();
  const provider = {
    clientMetadata: { redirect_uris: [], scope: target.scope },
    clientInformation: () => client,
    prepareTokenRequest: (scope?: string) => new URLSearchParams({ grant_type: JWT_BEARER_GRANT, assertion, ...(scope ? { scope } : {}) }),
    addClientAuthentication: client ? clientAuthenticator(() => client, ctx.provider.signer) : undefined,
  };
  try {
    const answer = await fetchToken(provider as unknown as Parameters<typeof fetchToken>[0], discovery.authorizationServerUrl, {
      metadata: discovery.authorizationServerMetadata,
      resource: target.resource as unknown as URL | undefined, // Sent verbatim (a URL's href would add a `/`).
      fetchFn: ctx.fetchFn,
    });
    return storedTokensFrom(answer, 'the token response', { issuer: discovery.authorizationServerUrl });
  } catch (error) {
    throw explainRedeemRefusal(ctx, error, Boolean(client));
  }
}

/** The IdP's refusal of the exchange, for this server: a denial says what to ask the administrator; anything else passes as it is. */
export function explainIdpRefusal(server: string, error: unknown): unknown {
  if (!(error instanceof OAuthError) || !DENIALS.has(error.errorCode)) return error;
  const said = sanitize(error).message;
  return new IdentityAssertionDeniedError(
    error.errorCode,
    `the identity provider did not grant access to ${server} (${error.errorCode}${said ? `: ${said}` : ''}); ` +
      `ask your administrator to assign this user the application for ${server} in the identity provider`,
    { cause: error },
  );
}

/** The authorization server's refusal of the ID-JAG: the trust between it and the IdP, or the client, is not as configured. */
function explainRedeemRefusal(ctx: AuthContext, error: unknown, hasClient: boolean): unknown {
  if (!(error instanceof OAuthError) || classifyTokenError(error) === 'transient') return error;
  const said = sanitize(error).message;
  const what = hasClient
    ? `ask your administrator to check that it trusts the identity provider for this client (mcpServers.${ctx.name}.oauth.clientId) and resource`
    : `it may need the client the identity provider names for it: set mcpServers.${ctx.name}.oauth.clientId (and its secret or key)`;
  return new IdentityAssertionRejectedError(
    error.errorCode,
    `${ctx.name}'s authorization server refused the identity provider's grant (${error.errorCode}${said ? `: ${said}` : ''}); ${what}`,
    { cause: error },
  );
}
