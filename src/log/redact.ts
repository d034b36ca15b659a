/**
 * Removes secrets from text before it leaves the process (log lines, error messages, CLI
 * output, callback pages).
 *
 * Covers bearer tokens, OAuth parameters (access/refresh/id tokens, authorization codes, PKCE
 * verifiers, device codes, client secrets, passphrases) in query strings and form bodies, also
 * HTML-escaped (`&amp;code_verifier=…`, what an error page that echoes the form shows) and
 * URL-encoded inside another URL (`%26code%3D…`), in JSON (also JSON inside a JSON string) and
 * as `key: value`; and any exact secret registered at run time with `registerSecret`, in
 * every encoding it may travel in (URL-encoded, form-encoded, HTML-escaped, JSON-escaped).
 * @see [RFC 7636 §7.1](https://www.rfc-editor.org/rfc/rfc7636.html#section-7.1) (the verifier must stay secret), [RFC 6749 §10.3, §10.5](https://www.rfc-editor.org/rfc/rfc6749.html#section-10.3)
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

const anyKey = `${keyAlternation}|${camelKeys}`;

const PATTERNS: Array<[RegExp, string]> = [
  // Authorization headers and the like (credentials are long; "Bearer is supported" is prose).
  [/\b(Bearer|Basic|DPoP)\s+[A-Za-z0-9\-._~+/]{8,}=*/gi, '$1 [redacted]'],
  // JSON: "access_token": "..."
  [new RegExp(`("(?:${anyKey})"\\s*:\\s*)"(?:[^"\\\\]|\\\\.)*"`, 'gi'), '$1"[redacted]"'],
  // JSON inside a JSON string: \"access_token\": \"...\"
  [new RegExp(`(\\\\"(?:${anyKey})\\\\"\\s*:\\s*\\\\")(?:[^"\\\\]|\\\\[^"])*(\\\\")`, 'gi'), '$1[redacted]$2'],
  // Query strings and form bodies, also HTML-escaped (&amp;code=) and URL-encoded in a URL (%26code%3D…).
  [new RegExp(`([?&;\\s]|%26|%3F|^)(${keyAlternation})(=|%3D)(?:[^&\\s"'<>%]|%(?!26)[0-9A-Fa-f]{2})*`, 'gi'), '$1$2$3[redacted]'],
  // key: 'value' (inspected objects) and key: value (YAML, headers, prose) where the value looks like a credential.
  [new RegExp(`\\b(${anyKey})(\\s*[:=]\\s*)'(?=[^']*\\d)(?:[^'\\\\]|\\\\.){8,}'`, 'gi'), "$1$2'[redacted]'"],
  [new RegExp(`\\b(${anyKey})(\\s*:\\s*)(?=[^\\s,;]*\\d)[A-Za-z0-9\\-._~+/=%]{8,}`, 'gi'), '$1$2[redacted]'],
];

const exactSecrets = new Set<string>();

/**
 * Remember a secret value so that it is redacted wherever it shows up, in each encoding it may
 * travel in: as it is, URL-encoded, form-encoded, HTML-escaped, JSON-escaped. Call it as soon as
 * the secret exists (created, received, or read from the store).
 */
export function registerSecret(value: string | undefined): void {
  if (!value || value.length < 6) return;
  const forms = new Set([
    value,
    encodeURIComponent(value),
    new URLSearchParams({ v: value }).toString().slice(2),
    JSON.stringify(value).slice(1, -1),
  ]);
  for (const form of [...forms]) forms.add(escapeHtml(form));
  // Longest first, so a form that contains another is replaced whole.
  for (const form of [...forms].sort((a, b) => b.length - a.length)) exactSecrets.add(form);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function redact(text: string): string {
  let out = text;
  for (const secret of exactSecrets) {
    if (out.includes(secret)) out = out.split(secret).join('[redacted]');
  }
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}
