import { discoverOAuthServerInfo, type OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthServerConfig } from '../config/types.js';
import { checkDiscovery } from './discoveryChecks.js';
import { fetchConfiguredMetadata } from './configuredMetadata.js';
import { NetworkPolicy } from './networkPolicy.js';
import { createOAuthFetch } from './oauthFetch.js';

/** What `gateway doctor` learns about a server's authorization server without logging in. */
export interface AuthorizationFacts {
  state: OAuthDiscoveryState;
  issuer: string;
  dynamicRegistration: boolean;
  revocation: boolean;
}

/**
 * Runs the discovery a login would (the configured metadata URL, else RFC 9728 then RFC 8414 /
 * OpenID) and the gateway's checks on it. Throws with the reason when a login could not work.
 */
export async function inspectAuthorization(
  url: string,
  resourceMetadata: string | undefined,
  oauth?: OAuthServerConfig,
): Promise<AuthorizationFacts> {
  const fetchFn = createOAuthFetch(undefined, { network: new NetworkPolicy([url, oauth?.authServerMetadataUrl]) });
  let state: OAuthDiscoveryState;
  if (oauth?.authServerMetadataUrl) {
    state = await fetchConfiguredMetadata(oauth.authServerMetadataUrl, fetchFn);
  } else {
    state = await discoverOAuthServerInfo(url, { resourceMetadataUrl: resourceMetadata ? new URL(resourceMetadata) : undefined, fetchFn });
  }
  checkDiscovery(state);
  const metadata = state.authorizationServerMetadata as Record<string, unknown>;
  return {
    state,
    issuer: String(metadata.issuer),
    dynamicRegistration: typeof metadata.registration_endpoint === 'string',
    revocation: typeof metadata.revocation_endpoint === 'string',
  };
}
