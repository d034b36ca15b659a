import type { OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { redact } from '../log/redact.js';
import { applyClientAuthentication, chooseClientAuthMethod, type AuthenticatingClient } from './clientAuthentication.js';
import { checkEndpointUrl } from './urlRules.js';

export type RevocationOutcome = { revoked: true; endpoint: string } | { revoked: false; reason: string };

/**
 * Revokes one token at the authorization server (RFC 7009), authenticating as the client
 * the way the server lists (see chooseClientAuthMethod: Basic, post, or just `client_id` for a
 * public client). Never throws: the outcome says what happened.
 * @see [RFC 7009 §2.1](https://www.rfc-editor.org/rfc/rfc7009.html#section-2.1)
 */
export async function revokeToken(
  discovery: OAuthDiscoveryState | undefined,
  client: AuthenticatingClient | undefined,
  token: string,
  hint: 'refresh_token' | 'access_token',
  fetchFn: FetchLike,
): Promise<RevocationOutcome> {
  const metadata = discovery?.authorizationServerMetadata as Record<string, unknown> | undefined;
  const endpoint = metadata?.revocation_endpoint;
  if (typeof endpoint !== 'string') return { revoked: false, reason: 'the authorization server offers no revocation endpoint' };
  if (!client?.client_id) return { revoked: false, reason: 'no client registration is stored to revoke with' };
  try {
    checkEndpointUrl(endpoint, 'the revocation_endpoint');
  } catch (error) {
    return { revoked: false, reason: (error as Error).message };
  }
  const body = new URLSearchParams({ token, token_type_hint: hint });
  const headers = new Headers({ 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' });
  // RFC 7009 §2.1: the client authenticates as at the token endpoint, by the revocation endpoint's list.
  const method = chooseClientAuthMethod(client, metadata?.revocation_endpoint_auth_methods_supported as string[] | undefined);
  try {
    await applyClientAuthentication(method, client, { headers, body, url: endpoint });
    const response = await fetchFn(endpoint, { method: 'POST', headers, body });
    const text = await response.text().catch(() => '');
    // RFC 7009 §2.2: 200 for a revoked token and for one the server did not know.
    if (response.ok) return { revoked: true, endpoint };
    return { revoked: false, reason: `${endpoint} answered HTTP ${response.status}${text ? `: ${redact(text.slice(0, 200))}` : ''}` };
  } catch (error) {
    return { revoked: false, reason: redact((error as Error).message) };
  }
}
