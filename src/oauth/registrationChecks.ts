import type { OAuthClientInformationMixed } from '@modelcontextprotocol/sdk/shared/auth.js';
import { UnsafeAuthorizationServerError } from '../shared/errors.js';

/**
 * Whether a registration's client secret has expired: `client_secret_expires_at` is seconds
 * since the epoch, 0 meaning never (RFC 7591 §3.2.1).
 * @see [RFC 7591 §3.2.1](https://www.rfc-editor.org/rfc/rfc7591.html#section-3.2.1)
 */
export function secretExpired(info: OAuthClientInformationMixed, now = Date.now()): boolean {
  const at = (info as { client_secret_expires_at?: unknown }).client_secret_expires_at;
  return Boolean(info.client_secret) && typeof at === 'number' && at !== 0 && at * 1000 <= now;
}

/**
 * A dynamic registration's answer, before anything is stored or a browser opened: it must
 * register our loopback redirect URI exactly (the server may change what was asked for,
 * RFC 7591 §3.2.1, and a login to any other URI could not come back), and its secret must not
 * have expired already.
 * @see [RFC 7591 §3.2.1](https://www.rfc-editor.org/rfc/rfc7591.html#section-3.2.1), [RFC 8252 §7.3](https://www.rfc-editor.org/rfc/rfc8252.html#section-7.3)
 */
export function checkRegistrationAnswer(info: OAuthClientInformationMixed, redirectUri: string | undefined, now = Date.now()): void {
  const uris = (info as { redirect_uris?: unknown }).redirect_uris;
  if (redirectUri && !(Array.isArray(uris) && uris.includes(redirectUri))) {
    throw new UnsafeAuthorizationServerError(
      `the registration answer's redirect_uris (${JSON.stringify(uris ?? null)}) do not include ours (${redirectUri}) exactly; refusing the registration (RFC 7591 §3.2.1)`,
    );
  }
  if (secretExpired(info, now)) {
    const at = new Date((info as { client_secret_expires_at: number }).client_secret_expires_at * 1000).toISOString();
    throw new UnsafeAuthorizationServerError(
      `the registration answer's client secret expired already (client_secret_expires_at ${at}); refusing the registration (RFC 7591 §3.2.1)`,
    );
  }
}
