import { UnsafeAuthorizationServerError } from '../shared/errors.js';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/**
 * The rule for every URL the gateway takes from OAuth metadata or a server's header:
 * https, or plain http only for loopback hosts; nothing else (no file:, data:, javascript:).
 */
export function checkEndpointUrl(value: unknown, what: string): URL {
  if (typeof value !== 'string') throw new UnsafeAuthorizationServerError(`${what} is missing or not a string`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UnsafeAuthorizationServerError(`${what} is not a valid URL: ${value}`);
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return url;
  throw new UnsafeAuthorizationServerError(
    url.protocol === 'http:'
      ? `${what} uses plain http (${url.origin}); only https is accepted, except for loopback hosts`
      : `${what} has the scheme ${url.protocol}, which is never accepted`,
  );
}
