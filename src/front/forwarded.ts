import type { IncomingMessage } from 'node:http';

/** The first value of a header a proxy may have sent several of, or joined with commas. */
function first(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  return text?.split(',')[0]?.trim() || undefined;
}

/**
 * Where a request came from: the peer's address, or, behind a reverse proxy the config says
 * to trust (`gateway.http.trustProxy`), the client the proxy names in `X-Forwarded-For`.
 * Without that setting the header is ignored: anyone can send it.
 */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  return (trustProxy ? first(req.headers['x-forwarded-for']) : undefined) ?? req.socket.remoteAddress ?? 'unknown';
}

/**
 * The origin the client addressed (`https://mcp.example.com` behind a TLS-terminating proxy):
 * from `X-Forwarded-Proto` and `X-Forwarded-Host` when the proxy is trusted, else the
 * listener's own.
 */
export function publicOrigin(req: IncomingMessage, trustProxy: boolean, own: string): string {
  if (!trustProxy) return own;
  const proto = first(req.headers['x-forwarded-proto']);
  const host = first(req.headers['x-forwarded-host']) ?? req.headers.host;
  if (!host || (proto !== undefined && proto !== 'http' && proto !== 'https')) return own;
  return `${proto ?? 'http'}://${host}`;
}
