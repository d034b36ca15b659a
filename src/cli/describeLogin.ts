import type { StoredTokens } from '../oauth/tokenStore.js';

/** "expires in 42 min" / "expired 3 h ago" / "no expiry given", for people. */
export function describeExpiry(tokens: StoredTokens, now = Date.now()): string {
  if (tokens.expires_at === undefined) return 'the access token has no expiry given';
  const delta = tokens.expires_at - now;
  return delta >= 0 ? `the access token expires in ${duration(delta)}` : `the access token expired ${duration(-delta)} ago`;
}

export function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 90) return `${s} s`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} days`;
}
