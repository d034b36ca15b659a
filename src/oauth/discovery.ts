import type { OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import { checkResourceAllowed, resourceUrlFromServerUrl } from '@modelcontextprotocol/sdk/shared/auth-utils.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Logger } from '../log/logger.js';
import { fetchConfiguredMetadata } from './configuredMetadata.js';
import { checkDiscovery } from './discoveryChecks.js';
import type { GatewayOAuthProvider } from './gatewayOAuthProvider.js';
import { fetchAuthorizationServerMetadata, fetchResourceMetadata } from './metadataDocuments.js';
import { UnsafeAuthorizationServerError } from '../shared/errors.js';
import { checkEndpointUrl } from './urlRules.js';

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
  const state = request.configuredMetadataUrl
    ? await fetchConfiguredMetadata(request.configuredMetadataUrl, request.fetchFn)
    : await discoverFromServer(request);
  checkDiscovery(state);
  return state;
}

/**
 * RFC 9728 then RFC 8414 discovery, in that order and each step checked before the next
 * request: the protected resource metadata's `resource` must be this server before the
 * authorization server it names is asked anything (RFC 9728 §3.3: a document that does not
 * match MUST NOT be used). Without that metadata (a 2025-03-26 server), the server's origin is
 * asked for authorization server metadata (see bindOriginIssuer).
 * @see [RFC 9728 §3.3](https://www.rfc-editor.org/rfc/rfc9728.html#section-3.3)
 */
async function discoverFromServer({ serverUrl, resourceMetadataUrl, fetchFn, log }: DiscoveryRequest): Promise<OAuthDiscoveryState> {
  const prm = await fetchResourceMetadata(serverUrl, resourceMetadataUrl, fetchFn);
  if (prm.metadata) checkNamedResource(serverUrl, prm.metadata.resource, prm.url);
  const named = prm.metadata?.authorization_servers?.[0];
  const authorizationServerUrl = named ?? String(new URL('/', serverUrl));
  if (named) checkEndpointUrl(named, 'the authorization server the resource metadata names');
  const as = await fetchAuthorizationServerMetadata(authorizationServerUrl, fetchFn);
  if (named && !as.metadata) {
    throw new UnsafeAuthorizationServerError(
      `${named} publishes no OAuth authorization server metadata (RFC 8414 / OpenID discovery): ${as.reasons.join('; ')}`,
    );
  }
  const found: OAuthDiscoveryState = {
    authorizationServerUrl,
    authorizationServerMetadata: as.metadata,
    resourceMetadata: prm.metadata,
    resourceMetadataUrl: resourceMetadataUrl ? new URL(resourceMetadataUrl).href : undefined,
  };
  const { state, notes } = withDiscoveryFallbacks(bindOriginIssuer(found, serverUrl), serverUrl);
  for (const note of notes) log.info(note);
  return state;
}

/**
 * A 2025-03-26 server without protected resource metadata: its authorization server metadata
 * is looked up at its origin (the path discarded), and deployed servers answer there with an
 * issuer on that same origin with a path. That issuer is accepted, and from then on it is
 * the authorization server the state names (so every later `iss` check, RFC 9207, holds
 * against it); an issuer on any other origin is refused (RFC 8414 §3.3).
 * @see [MCP 2025-03-26 Authorization §2.3.2](https://modelcontextprotocol.io/specification/2025-03-26/basic/authorization#2-3-2-authorization-base-url), [RFC 8414 §3.3](https://www.rfc-editor.org/rfc/rfc8414.html#section-3.3)
 */
export function bindOriginIssuer(found: OAuthDiscoveryState, serverUrl: string): OAuthDiscoveryState {
  const issuer = (found.authorizationServerMetadata as { issuer?: unknown } | undefined)?.issuer;
  if (found.resourceMetadata || typeof issuer !== 'string') return found;
  const origin = new URL(serverUrl).origin;
  let issuerOrigin: string | undefined;
  try {
    issuerOrigin = new URL(issuer).origin;
  } catch {
    // Not a URL: checkDiscovery refuses it.
  }
  if (issuerOrigin !== origin) {
    throw new UnsafeAuthorizationServerError(
      `the authorization server metadata at ${origin} names the issuer ${issuer}, on another origin; RFC 8414 §3.3 requires the issuer to be where the metadata was found`,
    );
  }
  return { ...found, authorizationServerUrl: issuer };
}

/**
 * RFC 9728 §3.3: the metadata's `resource` must be the server it was fetched for; as the
 * SDK's own check, the same origin and a path the server's path lies under.
 * @see [RFC 9728 §3.3](https://www.rfc-editor.org/rfc/rfc9728.html#section-3.3)
 */
export function checkNamedResource(serverUrl: string, resource: string, documentUrl: string | undefined): void {
  let allowed = false;
  try {
    allowed = checkResourceAllowed({ requestedResource: resourceUrlFromServerUrl(serverUrl), configuredResource: resource });
  } catch {
    // Not a URL: refused below.
  }
  if (!allowed) {
    throw new UnsafeAuthorizationServerError(
      `the protected resource metadata${documentUrl ? ` at ${documentUrl}` : ''} is for ${resource}, not for this server (${serverUrl}); RFC 9728 §3.3 forbids using it, so nothing more was fetched`,
    );
  }
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
  const origin = new URL(serverUrl).origin;
  const named = found.authorizationServerUrl !== `${origin}/` ? ` (its metadata names the issuer ${found.authorizationServerUrl})` : '';
  notes.push(
    `no protected resource metadata (RFC 9728): using the MCP server's origin ${origin}/ as its authorization server${named} (MCP 2025-03-26)`,
  );
  if (found.authorizationServerMetadata) return { state: found, notes };
  notes.push(
    `no authorization server metadata at ${origin}: using the default endpoints /authorize, /token and /register there (MCP 2025-03-26)`,
  );
  return {
    state: { ...found, authorizationServerUrl: `${origin}/`, authorizationServerMetadata: defaultEndpointsMetadata(origin) },
    notes,
  };
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
