import type { OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthServerConfig } from '../config/types.js';

/** `oauth.resource: false`: the RFC 8707 `resource` parameter is never sent (Entra ID rejects it). */
export function omitsResource(oauth: OAuthServerConfig | undefined): boolean {
  return oauth?.resource === false;
}

/**
 * The canonical URI of an MCP server, as the MCP spec defines it for the `resource`
 * parameter: scheme and host lower case (the URL parser does that), no fragment, and no
 * terminating `/` when the URL has no path.
 * @see [MCP Authorization, Canonical Server URI](https://modelcontextprotocol.io/specification/2025-06-18/basic/authorization#canonical-server-uri), [RFC 8707 §2](https://www.rfc-editor.org/rfc/rfc8707.html#section-2)
 */
export function canonicalServerUri(serverUrl: string): string {
  const url = new URL(serverUrl);
  url.hash = '';
  return url.pathname === '/' && !url.search ? url.origin : url.href;
}

/**
 * The RFC 8707 resource indicator for the authorization, token and refresh requests: always
 * sent (the MCP spec: clients MUST send it, whether or not the authorization server is known
 * to support it), exactly as the protected resource metadata names it (RFC 9728 §2; checked
 * against the server URL in discovery), else the server's canonical URI (a 2025-03-26 server
 * without that metadata); none only when the config says `resource: false`.
 * @see [RFC 8707 §2](https://www.rfc-editor.org/rfc/rfc8707.html#section-2), [MCP Authorization, Resource Parameter Implementation](https://modelcontextprotocol.io/specification/2025-06-18/basic/authorization#resource-parameter-implementation)
 */
export function resourceIndicator(
  discovery: Pick<OAuthDiscoveryState, 'resourceMetadata'>,
  oauth: OAuthServerConfig | undefined,
  serverUrl: string,
): string | undefined {
  if (omitsResource(oauth)) return undefined;
  const named = discovery.resourceMetadata?.resource;
  if (named) return named;
  return serverUrl ? canonicalServerUri(serverUrl) : undefined;
}
