import { buildDiscoveryUrls } from '@modelcontextprotocol/sdk/client/auth.js';
import {
  OAuthMetadataSchema,
  OAuthProtectedResourceMetadataSchema,
  OpenIdProviderDiscoveryMetadataSchema,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import type { AuthorizationServerMetadata, OAuthProtectedResourceMetadata } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { TransientAuthError, UnsafeAuthorizationServerError } from '../shared/errors.js';
import { discardBody } from '../shared/bestEffort.js';

const MAX_REDIRECTS = 3;

/** A metadata document fetched, or why there is none at that URL (said in words). */
export type Fetched = { found: true; url: string; body: unknown } | { found: false; url: string; reason: string };

/**
 * GETs one metadata document: redirects are followed only within the origin (as the SDK's
 * discovery does); a redirect elsewhere, or a 4xx, means "not here" with the reason in words;
 * a 5xx is a TransientAuthError; a 200 that is not JSON is refused.
 * @see [RFC 8414 §3](https://www.rfc-editor.org/rfc/rfc8414.html#section-3), [RFC 9728 §3](https://www.rfc-editor.org/rfc/rfc9728.html#section-3)
 */
export async function fetchMetadataDocument(url: string, fetchFn: FetchLike): Promise<Fetched> {
  let current = new URL(url);
  for (let hop = 0; ; hop++) {
    const response = await fetchFn(current, {
      headers: { accept: 'application/json', 'mcp-protocol-version': LATEST_PROTOCOL_VERSION },
      redirect: 'manual',
    });
    const location = response.status >= 300 && response.status < 400 ? response.headers.get('location') : null;
    if (location) {
      await discardBody(response);
      const target = new URL(location, current);
      if (target.origin !== current.origin)
        return { found: false, url, reason: `redirected to another origin (${target.origin}) (not followed)` };
      if (hop >= MAX_REDIRECTS) return { found: false, url, reason: 'too many redirects' };
      current = target;
      continue;
    }
    if (!response.ok) {
      await discardBody(response);
      const reason = `HTTP ${response.status} from ${current.href}`;
      if (response.status >= 500) throw new TransientAuthError(reason);
      return { found: false, url, reason };
    }
    const text = await response.text();
    try {
      return { found: true, url: current.href, body: JSON.parse(text) };
    } catch {
      throw new UnsafeAuthorizationServerError(`the answer from ${current.href} is not JSON`);
    }
  }
}

/**
 * The protected resource metadata (RFC 9728): at the `resource_metadata` URL of the server's
 * 401 if it named one (then it must be there), else at the path-aware well-known URL, then
 * the root one. Undefined, with the reasons, when the server publishes none (a 2025-03-26 server).
 * @see [RFC 9728 §3.1](https://www.rfc-editor.org/rfc/rfc9728.html#section-3.1), [§5.1](https://www.rfc-editor.org/rfc/rfc9728.html#section-5.1)
 */
export async function fetchResourceMetadata(
  serverUrl: string,
  namedUrl: string | undefined,
  fetchFn: FetchLike,
): Promise<{ metadata?: OAuthProtectedResourceMetadata; url?: string; reasons: string[] }> {
  const server = new URL(serverUrl);
  const path = server.pathname.replace(/\/$/, '');
  const candidates = namedUrl
    ? [namedUrl]
    : [
        ...(path ? [`${server.origin}/.well-known/oauth-protected-resource${path}`] : []),
        `${server.origin}/.well-known/oauth-protected-resource`,
      ];
  const reasons: string[] = [];
  for (const candidate of candidates) {
    const fetched = await fetchMetadataDocument(candidate, fetchFn);
    if (!fetched.found) {
      if (namedUrl)
        throw new UnsafeAuthorizationServerError(
          `the resource_metadata URL the server named (${namedUrl}) has no document: ${fetched.reason}`,
        );
      reasons.push(fetched.reason);
      continue;
    }
    const parsed = OAuthProtectedResourceMetadataSchema.safeParse(fetched.body);
    if (!parsed.success)
      throw new UnsafeAuthorizationServerError(`${fetched.url} is not protected resource metadata (${describeIssue(parsed.error.issues)})`);
    return { metadata: parsed.data, url: candidate, reasons };
  }
  return { reasons };
}

/**
 * The authorization server's metadata (RFC 8414, else OpenID discovery) at the URLs the SDK
 * tries for an issuer; undefined, with the reasons, when none of them has it.
 * @see [RFC 8414 §3.1](https://www.rfc-editor.org/rfc/rfc8414.html#section-3.1)
 */
export async function fetchAuthorizationServerMetadata(
  issuer: string,
  fetchFn: FetchLike,
): Promise<{ metadata?: AuthorizationServerMetadata; reasons: string[] }> {
  const reasons: string[] = [];
  for (const { url, type } of buildDiscoveryUrls(issuer)) {
    const fetched = await fetchMetadataDocument(url.href, fetchFn);
    if (!fetched.found) {
      reasons.push(`${fetched.reason}${fetched.reason.startsWith('HTTP') ? '' : ` at ${url.href}`}`);
      continue;
    }
    const parsed = (type === 'oauth' ? OAuthMetadataSchema : OpenIdProviderDiscoveryMetadataSchema).safeParse(fetched.body);
    if (!parsed.success)
      throw new UnsafeAuthorizationServerError(
        `${fetched.url} is not authorization server metadata (${describeIssue(parsed.error.issues)})`,
      );
    return { metadata: parsed.data, reasons };
  }
  return { reasons };
}

function describeIssue(issues: Array<{ path: PropertyKey[]; message: string }>): string {
  const issue = issues[0];
  return issue ? `${issue.path.map(String).join('.') || '(the whole answer)'}: ${issue.message}` : 'invalid';
}
