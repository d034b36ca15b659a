import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/** The names a loopback listener answers to. */
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  return bare === 'localhost' || bare === '::1' || (isIP(bare) === 4 && bare.startsWith('127.'));
}

/** `host` as it goes in a URL: an IPv6 address in brackets. */
export function urlHost(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}

/**
 * The origins a browser may call from: those configured, and for a loopback listener its own
 * (http://localhost:PORT, http://127.0.0.1:PORT, http://[::1]:PORT). Never derived from the
 * request's `Host`, which a DNS-rebinding page controls.
 */
export function allowedOrigins(configured: readonly string[], host: string, port: number): Set<string> {
  const origins = new Set(configured.map((origin) => origin.replace(/\/$/, '').toLowerCase()));
  if (isLoopbackHost(host)) for (const name of LOOPBACK_NAMES) origins.add(`http://${name}:${port}`);
  return origins;
}

/**
 * The Origin check the transport requires on every request, against DNS rebinding: a request
 * with an `Origin` header is served only when that origin is allowed; one without (not from a
 * browser) is. https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#security-warning
 */
export function originAllowed(req: IncomingMessage, allowed: ReadonlySet<string>): boolean {
  const origin = req.headers.origin;
  return origin === undefined || allowed.has(origin.toLowerCase());
}

/**
 * For a listener on a loopback address: the `Host` must name the loopback too. A page whose
 * name was rebound to 127.0.0.1 sends its own name there, also on requests a browser sends
 * without an `Origin` (a same-origin GET).
 */
export function hostAllowed(req: IncomingMessage, port: number): boolean {
  const host = req.headers.host;
  if (!host) return false;
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(host);
  return !!match && isLoopbackHost(match[1]!.toLowerCase()) && (match[2] === undefined || Number(match[2]) === port);
}
