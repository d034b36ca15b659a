import type { OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthServerConfig } from '../config/types.js';

/** `oauth.resource: false`: the RFC 8707 `resource` parameter is never sent (Entra ID rejects it). */
export function omitsResource(oauth: OAuthServerConfig | undefined): boolean {
  return oauth?.resource === false;
}

/**
 * The RFC 8707 resource indicator for token requests: exactly as the protected resource
 * metadata names it (RFC 9728 §2), as the SDK's login sends it, so `https://x` stays without
 * a slash; none without that metadata, or when the config says `resource: false`.
 * @see [RFC 8707 §2](https://www.rfc-editor.org/rfc/rfc8707.html#section-2)
 */
export function resourceIndicator(discovery: Pick<OAuthDiscoveryState, 'resourceMetadata'>, oauth: OAuthServerConfig | undefined): string | undefined {
  if (omitsResource(oauth)) return undefined;
  return discovery.resourceMetadata?.resource || undefined;
}
