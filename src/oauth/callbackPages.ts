/** The small pages the loopback listener answers the browser with. */

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function page(title: string, body: string, ok: boolean): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)} · mcp-oauth-gateway</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; color: #1d1d1f; background: #f5f5f7; display: grid; place-items: center; min-height: 100vh; margin: 0; }
  main { background: #fff; border-radius: 12px; padding: 2rem 2.5rem; max-width: 32rem; box-shadow: 0 1px 4px rgba(0,0,0,.08); }
  h1 { font-size: 1.3rem; margin: 0 0 .5rem; color: ${ok ? '#1a7f37' : '#b42318'}; }
  p { margin: .5rem 0; } code { background: #f0f0f2; padding: .1rem .3rem; border-radius: 4px; }
</style></head>
<body><main><h1 id="result">${escapeHtml(title)}</h1>${body}</main></body></html>
`;
}

export function successPage(serverName: string): string {
  return page(`Logged in to ${serverName}`, `<p>mcp-oauth-gateway has what it needs. You can close this tab.</p>`, true);
}

export function failurePage(serverName: string, error: string, description?: string): string {
  return page(
    `Login to ${serverName} failed`,
    `<p>The authorization server answered <code>${escapeHtml(error)}</code>${description ? `: ${escapeHtml(description)}` : '.'}</p>` +
      `<p>Close this tab; the gateway reports the failure. Run <code>gateway auth login ${escapeHtml(serverName)}</code> to try again.</p>`,
    false,
  );
}

export function rejectedPage(reason: string): string {
  return page('This is not the login the gateway is waiting for', `<p>${escapeHtml(reason)}</p><p>Nothing was changed.</p>`, false);
}
