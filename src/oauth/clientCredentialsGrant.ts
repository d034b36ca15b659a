import { fetchToken, type OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { OAuthServerConfig } from '../config/types.js';
import type { AuthContext } from './authContext.js';
import { clientAuthenticator } from './clientAuthentication.js';
import { OAuthFlowError, TransientAuthError } from '../shared/errors.js';
import { privateKeyJwtSigner } from './privateKeyJwt.js';
import { sanitize } from './sanitizeError.js';
import { withTransientRetries } from './tokenErrors.js';
import { storedTokensFrom, type StoredTokens } from './tokenStore.js';

/**
 * A token for a machine (`oauth.grant: "client_credentials"`): no browser, no user. Transient
 * failures are retried; any other is said as a refused client, with what to check.
 * @see [RFC 6749 §4.4](https://www.rfc-editor.org/rfc/rfc6749.html#section-4.4)
 */
export async function clientCredentialsTokens(ctx: AuthContext, attempts: number): Promise<StoredTokens> {
  const discovery = await ctx.discovery();
  try {
    const result = await withTransientRetries(
      'the client credentials token request',
      () => requestClientCredentials(discovery, ctx.oauth!, ctx.scope(discovery), ctx.resource(discovery), ctx.fetchFn),
      attempts,
      () => ctx.log,
    );
    return storedTokensFrom(result, 'the token response', { issuer: discovery.authorizationServerUrl });
  } catch (error) {
    if (error instanceof TransientAuthError) throw error;
    throw new OAuthFlowError(
      'client_credentials_refused',
      `the authorization server refused the client credentials: ${sanitize(error).message}; check oauth.clientId and its secret or key`,
      {
        cause: error,
      },
    );
  }
}

/**
 * One client credentials token request, sent by the SDK; the client authenticates as
 * chooseClientAuthMethod says (its secret by Basic or post, as the server lists, or a signed JWT).
 */
export function requestClientCredentials(
  discovery: OAuthDiscoveryState,
  oauth: OAuthServerConfig,
  scope: string | undefined,
  resource: string | undefined,
  fetchFn: FetchLike,
): Promise<OAuthTokens> {
  const sign = privateKeyJwtSigner(oauth); // Read for each request: a replaced key file is used at once.
  const client = { client_id: oauth.clientId!, ...(oauth.clientSecret && !sign ? { client_secret: oauth.clientSecret } : {}) };
  const provider = {
    clientMetadata: { redirect_uris: [], scope },
    clientInformation: () => client,
    prepareTokenRequest: (requested?: string) =>
      new URLSearchParams({ grant_type: 'client_credentials', ...(requested ? { scope: requested } : {}) }),
    addClientAuthentication: clientAuthenticator(() => client, sign),
  };
  return fetchToken(provider as unknown as Parameters<typeof fetchToken>[0], discovery.authorizationServerUrl, {
    metadata: discovery.authorizationServerMetadata,
    resource: resource ? new URL(resource) : undefined,
    fetchFn,
  });
}
