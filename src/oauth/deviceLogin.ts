import { registerClient, type OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import type { AuthContext } from './authContext.js';
import { clientAuthenticator, type AuthenticatingClient } from './clientAuthentication.js';
import { DEVICE_CODE_GRANT, runDeviceFlow } from './deviceFlow.js';
import { OAuthFlowError, UnsafeAuthorizationServerError } from '../shared/errors.js';
import { storedTokensFrom, type StoredClient, type StoredTokens } from './tokenStore.js';
import { checkEndpointUrl } from './urlRules.js';

/**
 * `gateway auth login --device`: the device authorization grant, when the authorization server
 * offers it. The user enters a short code on any device; no browser or loopback listener is
 * involved here. The client authenticates as chooseClientAuthMethod says, in both requests.
 * @see [RFC 8628 §3](https://www.rfc-editor.org/rfc/rfc8628.html#section-3)
 */
export async function deviceLoginTokens(ctx: AuthContext, show: (text: string) => void): Promise<StoredTokens> {
  const discovery = await ctx.discovery();
  const metadata = discovery.authorizationServerMetadata as Record<string, unknown>;
  const endpoint = deviceAuthorizationEndpoint(discovery, ctx.name);
  const client = await deviceClient(ctx, discovery);
  const authenticate = clientAuthenticator(() => client, ctx.provider.signer);
  const tokens = await runDeviceFlow({
    deviceEndpoint: endpoint,
    tokenEndpoint: String(metadata.token_endpoint),
    client,
    scope: ctx.scope(discovery),
    resource: ctx.resource(discovery),
    fetchFn: ctx.fetchFn,
    show,
    serverName: ctx.name,
    authenticate: (headers, params, url) => authenticate(headers, params, url, discovery.authorizationServerMetadata),
  });
  return storedTokensFrom(tokens, 'the token response', { issuer: discovery.authorizationServerUrl });
}

/** The metadata's `device_authorization_endpoint` (RFC 8628 §4), checked; none: what to use instead. */
function deviceAuthorizationEndpoint(discovery: OAuthDiscoveryState, serverName: string): string {
  const endpoint = (discovery.authorizationServerMetadata as Record<string, unknown> | undefined)?.device_authorization_endpoint;
  if (typeof endpoint !== 'string') {
    throw new OAuthFlowError(
      'device_flow_unsupported',
      `${discovery.authorizationServerUrl} does not offer the device flow (no device_authorization_endpoint, RFC 8628); use \`gateway auth login ${serverName} --paste\` instead`,
    );
  }
  checkEndpointUrl(endpoint, 'the device_authorization_endpoint');
  return endpoint;
}

/** The client for the device flow: the configured one, the stored registration, or a new registration that lists the device grant. */
async function deviceClient(ctx: AuthContext, discovery: OAuthDiscoveryState): Promise<AuthenticatingClient> {
  if (ctx.oauth?.clientId) return { client_id: ctx.oauth.clientId, client_secret: ctx.oauth.clientSecret };
  const stored = await ctx.store.readClient(ctx.url);
  if (stored) return stored;
  const redirectUri = 'http://127.0.0.1/callback';
  const registered = await registerClient(discovery.authorizationServerUrl, {
    metadata: discovery.authorizationServerMetadata,
    clientMetadata: {
      ...ctx.provider.clientMetadata,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code', 'refresh_token', DEVICE_CODE_GRANT],
    },
    fetchFn: ctx.fetchFn,
  });
  if (typeof registered.client_id !== 'string' || !registered.client_id)
    throw new UnsafeAuthorizationServerError('the client registration response carries no client_id');
  await ctx.store.writeClient(ctx.url, {
    ...registered,
    source: 'dcr',
    redirect_uri: redirectUri,
    issuer: discovery.authorizationServerUrl,
  } as StoredClient);
  return registered;
}
