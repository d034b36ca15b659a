import { refreshAuthorization } from '@modelcontextprotocol/sdk/client/auth.js';
import { InvalidClientError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type { AuthContext } from './authContext.js';
import { clientAuthenticator } from './clientAuthentication.js';
import { storedTokensFrom, type StoredTokens } from './tokenStore.js';

/**
 * New tokens for a refresh token, sent by the SDK with the resource indicator and the client
 * authentication of chooseClientAuthMethod. A response without a refresh token keeps the old
 * one (RFC 6749 §6: the server may or may not rotate it); the issuer stamp stays.
 * @see [RFC 6749 §6](https://www.rfc-editor.org/rfc/rfc6749.html#section-6)
 */
export async function refreshedTokens(ctx: AuthContext, refreshToken: string, held: StoredTokens | undefined): Promise<StoredTokens> {
  const discovery = await ctx.discovery();
  const client = await ctx.provider.clientInformation();
  if (!client) throw new InvalidClientError('no client registration is stored for this server');
  const result = await refreshAuthorization(discovery.authorizationServerUrl, {
    metadata: discovery.authorizationServerMetadata,
    clientInformation: client,
    refreshToken,
    resource: ctx.resource(discovery),
    addClientAuthentication: clientAuthenticator(() => client, ctx.provider.signer),
    fetchFn: ctx.fetchFn,
  });
  return storedTokensFrom(result, 'the refresh response', {
    refresh_token: result.refresh_token ?? refreshToken,
    ...(held?.issuer ? { issuer: held.issuer } : {}),
  });
}
