import {
  OAuthError,
  InvalidClientError,
  InvalidGrantError,
  InvalidScopeError,
  InvalidTargetError,
  ServerError,
  TemporarilyUnavailableError,
  TooManyRequestsError,
  UnauthorizedClientError,
} from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type { Logger } from '../log/logger.js';
import { backoffDelay, sleep } from './backoff.js';
import { GatewayError, TransientAuthError, type RetryClass } from '../shared/errors.js';
import { sanitize } from './sanitizeError.js';

/**
 * What a failed token request means for the next step:
 * - `transient`: try again later (network trouble, 5xx, 429, `temporarily_unavailable`, a malformed answer);
 * - `grant`: the grant is gone or no longer fits (`invalid_grant`, `invalid_scope`, `invalid_target`): a new login;
 * - `client`: the client is unknown (`invalid_client`, `unauthorized_client`): register again, then log in;
 * - `fatal`: a rule broken or a request the server cannot take: neither a retry nor a browser helps.
 * @see [RFC 6749 §5.2](https://www.rfc-editor.org/rfc/rfc6749.html#section-5.2), [RFC 8707 §2](https://www.rfc-editor.org/rfc/rfc8707.html#section-2)
 */
export type TokenErrorKind = 'transient' | 'grant' | 'client' | 'fatal';

export function classifyTokenError(error: unknown): TokenErrorKind {
  // The gateway's own errors say it themselves: a network failure or a busy lock passes; a rule broken (non-Bearer token, oversize answer) does not.
  if (error instanceof GatewayError) return GATEWAY_RETRY_KIND[error.retry];
  if (error instanceof InvalidClientError || error instanceof UnauthorizedClientError) return 'client';
  if (error instanceof InvalidGrantError || error instanceof InvalidScopeError || error instanceof InvalidTargetError) return 'grant';
  if (error instanceof ServerError || error instanceof TemporarilyUnavailableError || error instanceof TooManyRequestsError)
    return 'transient';
  // A request the server cannot take.
  if (error instanceof OAuthError) return 'fatal';
  return 'transient';
}

const GATEWAY_RETRY_KIND: Record<RetryClass, TokenErrorKind> = { transient: 'transient', 'needs-login': 'grant', fatal: 'fatal' };

/**
 * Runs a token request, retrying what may pass (see classifyTokenError) with backoff and
 * jitter, `attempts` times at most; any other failure, and the last transient one (as
 * TransientAuthError, naming `what`), goes to the caller.
 */
export async function withTransientRetries<T>(what: string, request: () => Promise<T>, attempts: number, log: () => Logger): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await request();
    } catch (error) {
      if (classifyTokenError(error) !== 'transient') throw error;
      const why = sanitize(error).message;
      if (attempt + 1 >= attempts) throw new TransientAuthError(`${what} failed ${attempts} times: ${why}`, { cause: error });
      const delay = backoffDelay(attempt);
      log().warn(`${what} failed (${why}); retrying in ${(delay / 1000).toFixed(1)} s`);
      await sleep(delay);
    }
  }
}
