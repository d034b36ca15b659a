import type { OAuthClientInformationFull } from '@modelcontextprotocol/sdk/shared/auth.js';

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Headers for the gateway's own pages: never framed (clickjacking), nothing loaded, nothing cached. */
export const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
  'referrer-policy': 'same-origin',
};

const STYLE =
  'body{font:16px system-ui,sans-serif;max-width:34rem;margin:4rem auto;padding:0 1rem}button{font:inherit;padding:.5rem 1.25rem;margin-right:.5rem}';

/**
 * The consent page: every client registered itself (and all of them reach the identity
 * provider as the gateway's one client), so before the user is sent there they see which
 * client asks, where the answer will go, and for what, and approve or deny here.
 */
export function consentPage(
  client: OAuthClientInformationFull,
  login: string,
  redirectUri: string,
  resource: string,
  scopes: string[],
): string {
  const name = escapeHtml(client.client_name ?? client.client_id);
  const target = escapeHtml(new URL(redirectUri).origin);
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>Allow ${name}?</title><style>${STYLE}</style></head>
<body><h1>Allow access to this MCP gateway?</h1>
<p><strong>${name}</strong> asks to use the MCP gateway at <code>${escapeHtml(resource)}</code>${scopes.length ? ` with the scopes <code>${escapeHtml(scopes.join(' '))}</code>` : ''}, on your behalf.</p>
<p>If you approve, you log in with your identity provider next, and then go back to <code>${target}</code>.</p>
<form method="post" action="/oauth/consent"><input type="hidden" name="login" value="${escapeHtml(login)}">
<button id="approve" name="decision" value="approve">Approve</button><button id="deny" name="decision" value="deny">Deny</button></form>
</body></html>`;
}

/** A page for a login that cannot go on (unknown, expired, already used). */
export function problemPage(text: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>Login</title><style>${STYLE}</style></head><body><h1>This login cannot go on</h1><p>${escapeHtml(text)}</p></body></html>`;
}
