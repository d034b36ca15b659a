import { UnsafeAuthorizationServerError } from '../shared/errors.js';
import { classifyAddress } from './addressClass.js';

/** localhost, or a loopback address in any spelling (RFC 8252 §8.3: plain http is fine there). */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || classifyAddress(hostname) === 'loopback';
}

/**
 * The rule for every URL the gateway takes from OAuth metadata or a server's header:
 * https, or plain http only for loopback hosts; nothing else (no file:, data:, javascript:);
 * and no credentials in it (`https://user:pw@host/`): they would be sent as Basic
 * authentication to wherever the URL points, and a server's URL has no business carrying them
 * (RFC 3986 §3.2.1 deprecates them; RFC 8414 §2 allows no userinfo in an issuer).
 * @see [RFC 3986 §3.2.1](https://www.rfc-editor.org/rfc/rfc3986.html#section-3.2.1)
 */
export function checkEndpointUrl(value: unknown, what: string): URL {
  if (typeof value !== 'string') throw new UnsafeAuthorizationServerError(`${what} is missing or not a string`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UnsafeAuthorizationServerError(`${what} is not a valid URL: ${value}`);
  }
  if (url.username || url.password) {
    throw new UnsafeAuthorizationServerError(
      `${what} carries credentials (${url.protocol}//…@${url.host}); a URL with a user name or password is never accepted from a server`,
    );
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return url;
  throw new UnsafeAuthorizationServerError(
    url.protocol === 'http:'
      ? `${what} uses plain http (${url.origin}); only https is accepted, except for loopback hosts`
      : `${what} has the scheme ${url.protocol}, which is never accepted`,
  );
}
