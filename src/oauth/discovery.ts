import { discoverOAuthServerInfo, type OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Logger } from '../log/logger.js';
import { fetchConfiguredMetadata } from './configuredMetadata.js';
import { checkDiscovery } from './discoveryChecks.js';
import type { GatewayOAuthProvider } from './gatewayOAuthProvider.js';

export interface DiscoveryRequest {
  /** The MCP server's URL. */
  serverUrl: string;
  /** `oauth.authServerMetadataUrl`: used instead of discovery. */
  configuredMetadataUrl?: string;
  /** The `resource_metadata` of the server's last 401 (RFC 9728 §5.1). */
  resourceMetadataUrl?: string;
  fetchFn: FetchLike;
  log: Logger;
}

/** The discovery state the provider holds (from this process or the store), else a new discovery, saved. */
export async function ensureDiscovery(provider: GatewayOAuthProvider, request: DiscoveryRequest): Promise<OAuthDiscoveryState> {
  const cached = await provider.discoveryState();
  if (cached?.authorizationServerMetadata) return cached;
  const state = await discover(request);
  await provider.saveDiscoveryState(state);
  return state;
}

/**
 * Where the server's authorization server is and what it offers, checked (see checkDiscovery):
 * the configured metadata URL if there is one; else RFC 9728 and RFC 8414 discovery, falling
 * back as MCP 2025-03-26 did (see withDiscoveryFallbacks).
 */
export async function discover(request: DiscoveryRequest): Promise<OAuthDiscoveryState> {
  const state = request.configuredMetadataUrl ? await fetchConfiguredMetadata(request.configuredMetadataUrl, request.fetchFn) : await discoverFromServer(request);
  checkDiscovery(state);
  return state;
}

async function discoverFromServer({ serverUrl, resourceMetadataUrl, fetchFn, log }: DiscoveryRequest): Promise<OAuthDiscoveryState> {
  const info = await discoverOAuthServerInfo(serverUrl, { resourceMetadataUrl: resourceMetadataUrl ? new URL(resourceMetadataUrl) : undefined, fetchFn });
  const { state, notes } = withDiscoveryFallbacks({ ...info, resourceMetadataUrl: resourceMetadataUrl ? new URL(resourceMetadataUrl).href : undefined }, serverUrl);
  for (const note of notes) log.info(note);
  return state;
}

/**
 * The MCP 2025-03-26 fallbacks for a server that predates RFC 9728: without protected resource
 * metadata the SDK already looked for authorization server metadata at the server's origin; if
 * there is none there either, the default endpoints `/authorize`, `/token` and `/register` at
 * that origin, with PKCE S256 (which 2025-03-26 requires of every MCP authorization server).
 * Pure: returns the state and what to log about each fallback taken.
 * @see [MCP 2025-03-26 Authorization §2.3.3, Fallbacks for Servers without Metadata Discovery](https://modelcontextprotocol.io/specification/2025-03-26/basic/authorization#2-3-3-fallbacks-for-servers-without-metadata-discovery)
 */
export function withDiscoveryFallbacks(found: OAuthDiscoveryState, serverUrl: string): { state: OAuthDiscoveryState; notes: string[] } {
  const notes: string[] = [];
  if (found.resourceMetadata) return { state: found, notes };
  notes.push(`no protected resource metadata (RFC 9728): using the MCP server's origin ${found.authorizationServerUrl} as its authorization server (MCP 2025-03-26)`);
  if (found.authorizationServerMetadata) return { state: found, notes };
  const origin = new URL(serverUrl).origin;
  notes.push(`no authorization server metadata at ${origin}: using the default endpoints /authorize, /token and /register there (MCP 2025-03-26)`);
  return { state: { ...found, authorizationServerUrl: `${origin}/`, authorizationServerMetadata: defaultEndpointsMetadata(origin) }, notes };
}

/** Authorization server metadata for the 2025-03-26 default endpoints at `origin`. */
export function defaultEndpointsMetadata(origin: string): NonNullable<OAuthDiscoveryState['authorizationServerMetadata']> {
  return {
    issuer: `${origin}/`,
    authorization_endpoint: `${origin}/authorize`,
    token_endpoint: `${origin}/token`,
    registration_endpoint: `${origin}/register`,
    response_types_supported: ['code'],
    code_challenge_methods_supported: ['S256'],
  };
}
