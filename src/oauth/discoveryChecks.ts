import type { OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import { UnsafeAuthorizationServerError } from '../shared/errors.js';
import { checkEndpointUrl } from './urlRules.js';

/**
 * RFC 8414 §3.3: the metadata's `issuer` must be identical to the issuer identifier the client
 * used, compared as strings. `derived`: the client made that identifier itself (the MCP
 * server's origin for a 2025-03-26 server, or from a configured metadata URL) rather than being
 * given it; only then does a terminating `/` not count, because the well-known URL is the same
 * with or without it (§3.1), so the server's spelling cannot be known in advance.
 */
export function sameIssuer(published: string, used: string, { derived = false } = {}): boolean {
  if (published === used) return true;
  return derived && published.replace(/\/$/, '') === used.replace(/\/$/, '');
}

/**
 * What the gateway insists on before it talks to an authorization server, checked right
 * after the SDK's discovery (the SDK 1.32 checks none of it):
 * - the metadata's `issuer` is the URL it was discovered from, identical (RFC 8414 §3.3);
 * - PKCE S256 is offered: `code_challenge_methods_supported` present and listing it
 *   (the SDK lets an absent list through);
 * - every endpoint is https (http only on loopback), no other scheme.
 */
export function checkDiscovery(state: OAuthDiscoveryState): void {
  const metadata = state.authorizationServerMetadata;
  const asUrl = state.authorizationServerUrl;
  checkEndpointUrl(asUrl, 'the authorization server URL');
  if (!metadata) {
    throw new UnsafeAuthorizationServerError(`${asUrl} publishes no OAuth authorization server metadata (RFC 8414 / OpenID discovery)`);
  }
  // Named by the resource server (RFC 9728 authorization_servers), else derived by the client.
  const derived = !state.resourceMetadata?.authorization_servers?.includes(asUrl);
  if (typeof metadata.issuer !== 'string' || !sameIssuer(metadata.issuer, asUrl, { derived })) {
    throw new UnsafeAuthorizationServerError(
      `the authorization server metadata at ${asUrl} names a different issuer (${String(metadata.issuer)}); RFC 8414 requires them to match`,
    );
  }
  const methods = metadata.code_challenge_methods_supported;
  if (!Array.isArray(methods) || !methods.includes('S256')) {
    throw new UnsafeAuthorizationServerError(
      `${asUrl} does not offer PKCE with S256 (code_challenge_methods_supported: ${methods ? JSON.stringify(methods) : 'absent'}); the gateway requires it`,
    );
  }
  for (const field of ['authorization_endpoint', 'token_endpoint', 'registration_endpoint', 'revocation_endpoint'] as const) {
    const value = (metadata as Record<string, unknown>)[field];
    if (value !== undefined) checkEndpointUrl(value, `the authorization server's ${field}`);
  }
  if (state.resourceMetadataUrl) checkEndpointUrl(state.resourceMetadataUrl, 'the resource_metadata URL');
}
