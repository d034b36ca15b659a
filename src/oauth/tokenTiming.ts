import type { StoredTokens } from './tokenStore.js';

/** Refresh this long before expiry at most (less for short-lived tokens: a quarter of their lifetime). */
export const REFRESH_MARGIN_MS = 60_000;

/** Whether the access token should be refreshed at `now`; never for a token without an expiry. */
export function expiresSoon(tokens: StoredTokens, now = Date.now()): boolean {
  if (tokens.expires_at === undefined) return false;
  const lifetime = tokens.expires_at - tokens.obtained_at;
  return now >= tokens.expires_at - Math.min(REFRESH_MARGIN_MS, lifetime / 4);
}

export function expired(tokens: StoredTokens, now = Date.now()): boolean {
  return tokens.expires_at !== undefined && now >= tokens.expires_at;
}
