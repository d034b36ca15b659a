import type { OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { redact } from '../log/redact.js';
import { checkEndpointUrl } from './urlRules.js';
import type { StoredClient } from './tokenStore.js';

export type RevocationOutcome =
  | { revoked: true; endpoint: string }
  | { revoked: false; reason: string };

/**
 * Revokes one token at the authorization server (RFC 7009), authenticating as the client
 * the way the server lists (`client_secret_basic`, `client_secret_post`, or just `client_id`
 * for a public client). Never throws: the outcome says what happened.
 */
export async function revokeToken(
  discovery: OAuthDiscoveryState | undefined,
  client: Pick<StoredClient, 'client_id' | 'client_secret'> | undefined,
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
  const methods = (metadata?.revocation_endpoint_auth_methods_supported as string[] | undefined) ?? [];
  if (client.client_secret && (methods.length === 0 || methods.includes('client_secret_basic')) && !methods.includes('client_secret_post')) {
    headers.set('authorization', basicCredentials(client.client_id, client.client_secret));
  } else {
    body.set('client_id', client.client_id);
    if (client.client_secret) body.set('client_secret', client.client_secret);
  }
  try {
    const response = await fetchFn(endpoint, { method: 'POST', headers, body });
    const text = await response.text().catch(() => '');
    // RFC 7009 §2.2: 200 for a revoked token and for one the server did not know.
    if (response.ok) return { revoked: true, endpoint };
    return { revoked: false, reason: `${endpoint} answered HTTP ${response.status}${text ? `: ${redact(text.slice(0, 200))}` : ''}` };
  } catch (error) {
    return { revoked: false, reason: redact((error as Error).message) };
  }
}

/** An `Authorization: Basic` value for client credentials (RFC 6749 §2.3.1: each part form-encoded first). */
export function basicCredentials(clientId: string, clientSecret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`;
}
