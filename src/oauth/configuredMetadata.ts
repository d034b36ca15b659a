import type { OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { OAuthMetadataSchema } from '@modelcontextprotocol/sdk/shared/auth.js';
import { TransientAuthError, UnsafeAuthorizationServerError } from '../shared/errors.js';
import { discardBody } from '../shared/bestEffort.js';

const WELL_KNOWN = ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration'];

/**
 * The issuer a metadata URL belongs to: RFC 8414 inserts the well-known part before the
 * issuer's path (`/.well-known/oauth-authorization-server/tenant`), OpenID Connect appends it
 * (`/tenant/.well-known/openid-configuration`). Undefined for any other URL.
 */
export function issuerOfMetadataUrl(url: URL): string | undefined {
  for (const suffix of WELL_KNOWN) {
    if (url.pathname.startsWith(suffix)) return `${url.origin}${url.pathname.slice(suffix.length) || '/'}`;
    if (url.pathname.endsWith(suffix)) return `${url.origin}${url.pathname.slice(0, -suffix.length) || '/'}`;
  }
  return undefined;
}

/**
 * The authorization server metadata at a configured `oauth.authServerMetadataUrl`: fetched,
 * checked against the metadata schema, and bound to the issuer its URL names (or, for a URL
 * of another shape, to its origin), so RFC 8414 §3.3's issuer check still means something.
 */
export async function fetchConfiguredMetadata(metadataUrl: string, fetchFn: FetchLike): Promise<OAuthDiscoveryState> {
  const url = new URL(metadataUrl);
  const response = await fetchFn(url, { headers: { accept: 'application/json' } });
  if (!response.ok) {
    await discardBody(response);
    const error = `${metadataUrl} answered HTTP ${response.status}`;
    if (response.status >= 500 || response.status === 429) throw new TransientAuthError(error);
    throw new UnsafeAuthorizationServerError(`${error}; check oauth.authServerMetadataUrl`);
  }
  const parsed = OAuthMetadataSchema.safeParse(await response.json().catch(() => undefined));
  if (!parsed.success)
    throw new UnsafeAuthorizationServerError(
      `${metadataUrl} is not valid authorization server metadata (${parsed.error.issues[0]?.path.join('.') ?? ''}: ${parsed.error.issues[0]?.message ?? 'invalid'})`,
    );
  const issuer = issuerOfMetadataUrl(url);
  const metadata = parsed.data;
  if (!issuer && new URL(metadata.issuer).origin !== url.origin) {
    throw new UnsafeAuthorizationServerError(
      `the metadata at ${metadataUrl} names the issuer ${metadata.issuer}, on another origin; RFC 8414 requires them to match`,
    );
  }
  return { authorizationServerUrl: issuer ?? metadata.issuer, authorizationServerMetadata: metadata };
}
