/**
 * Removes secrets from text before it leaves the process (log lines, error messages).
 *
 * Covers bearer tokens, OAuth parameters in query strings, form bodies and JSON
 * (access/refresh/id tokens, authorization codes, PKCE verifiers, client secrets,
 * passphrases), and any exact secret registered at run time with `registerSecret`.
 */

const SECRET_KEYS = [
  'access_token',
  'refresh_token',
  'id_token',
  'code',
  'code_verifier',
  'client_secret',
  'client_assertion',
  'device_code',
  'passphrase',
  'password',
  'assertion',
  'token',
  'subject_token',
];
const keyAlternation = SECRET_KEYS.join('|');
const camelKeys = 'accessToken|refreshToken|idToken|codeVerifier|clientSecret|deviceCode|passphrase';

const PATTERNS: Array<[RegExp, string]> = [
  // Authorization headers and the like (credentials are long; "Bearer is supported" is prose).
  [/\b(Bearer|Basic|DPoP)\s+[A-Za-z0-9\-._~+/]{8,}=*/gi, '$1 [redacted]'],
  // JSON: "access_token": "..."
  [new RegExp(`("(?:${keyAlternation}|${camelKeys})"\\s*:\\s*)"(?:[^"\\\\]|\\\\.)*"`, 'gi'), '$1"[redacted]"'],
  // Query strings and form bodies: access_token=...&
  [new RegExp(`([?&\\s]|^)(${keyAlternation})=[^&\\s"'<>]*`, 'gi'), '$1$2=[redacted]'],
];

const exactSecrets = new Set<string>();

/** Remember a secret value so that it is redacted wherever it shows up. */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 6) exactSecrets.add(value);
}

export function redact(text: string): string {
  let out = text;
  for (const secret of exactSecrets) {
    if (out.includes(secret)) out = out.split(secret).join('[redacted]');
  }
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}
