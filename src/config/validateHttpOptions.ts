import { expectListenAddress, expectObject, expectOrigin, optionalBoolean, optionalPositiveInt } from './jsonChecks.js';
import type { HttpFrontOptions } from './types.js';
import { validateHttpAuth } from './validateHttpAuth.js';

const HTTP_FIELDS = ['listen', 'allowedOrigins', 'trustProxy', 'maxSessions', 'sessionIdleTimeout', 'auth'];

/**
 * `gateway.http`: how `serve --http` serves. `listen` is the address `--http` without one
 * uses; the rest say who may call (browser origins), whether a reverse proxy's
 * `X-Forwarded-*` headers are believed, and the bounds on sessions.
 */
export function validateHttpOptions(raw: unknown, at: string, warnings: string[], env: NodeJS.ProcessEnv = process.env): HttpFrontOptions {
  const block = expectObject(raw, at, 'must be an object of HTTP serving options');
  for (const key of Object.keys(block)) if (!HTTP_FIELDS.includes(key)) warnings.push(`${at}.${key}: unknown field, ignored`);
  const origins = block.allowedOrigins;
  if (origins !== undefined && !Array.isArray(origins)) expectObject(origins, `${at}.allowedOrigins`, 'must be an array of origins');
  return {
    ...(block.listen !== undefined ? { listen: expectListenAddress(block.listen, `${at}.listen`) } : {}),
    allowedOrigins: ((origins as unknown[] | undefined) ?? []).map((origin, i) => expectOrigin(origin, `${at}.allowedOrigins[${i}]`)),
    trustProxy: optionalBoolean(block.trustProxy, `${at}.trustProxy`) ?? false,
    maxSessions: optionalPositiveInt(block.maxSessions, `${at}.maxSessions`, 'sessions'),
    sessionIdleTimeout: optionalPositiveInt(block.sessionIdleTimeout, `${at}.sessionIdleTimeout`, 'milliseconds'),
    ...(block.auth !== undefined ? { auth: validateHttpAuth(block.auth, `${at}.auth`, warnings, env) } : {}),
  };
}
