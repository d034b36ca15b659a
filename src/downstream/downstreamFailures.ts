import type { ServerConfig } from '../config/types.js';
import { errorMessage } from '../log/logger.js';
import { redact } from '../log/redact.js';
import { GatewayError, ServerClosedError, type GatewayErrorCode } from '../shared/errors.js';

/**
 * How a failure is read: which errors are the login's own (reported as they are, never taken
 * for a server that went away), which may pass if tried again later, and the words for each.
 * Pure functions: the HTTP status and the stderr line are handed in. The gateway's errors are
 * told apart by their class (GatewayError), `code` and `retry` class, never by name or message.
 */

/** The failures of a server's OAuth side: its login, its tokens, their store. */
const LOGIN_SIDE: ReadonlySet<GatewayErrorCode> = new Set<GatewayErrorCode>([
  'oauth_flow',
  'unsafe_authorization_server',
  'transient_auth',
  'login_required',
  'callback_port_in_use',
  'lock_timeout',
  'token_store_unavailable',
  'identity_assertion_denied',
  'identity_assertion_rejected',
  'identity_sign_in_required',
  'id_token_invalid',
]);
/** Of those, the authorization server's (or identity provider's) refusals and the rules it broke (the others are transient). */
const REFUSED_BY_AUTH_SERVER: ReadonlySet<GatewayErrorCode> = new Set<GatewayErrorCode>([
  'oauth_flow',
  'unsafe_authorization_server',
  'identity_assertion_denied',
  'identity_assertion_rejected',
  'id_token_invalid',
]);

/** The error if it is one of the login side's. */
const loginSide = (error: unknown): GatewayError | undefined =>
  error instanceof GatewayError && LOGIN_SIDE.has(error.code) ? error : undefined;

/** Failures of the login itself, or of the store its tokens are kept in. */
export const isAuthError = (error: unknown) => loginSide(error) !== undefined;
/** Failures that a later attempt may not meet (the network, a busy lock): the server is retried slowly in the background. */
export const isRetryableAuthError = (error: unknown) => loginSide(error)?.retry === 'transient';
/** No login can start by itself now (headless, or the browser-tab limit). */
export const isLoginRequired = (error: unknown) => loginSide(error)?.retry === 'needs-login';

/** The authorization server failed or refused for good (the tokens cannot be renewed now). */
export function isAuthServerFailure(error: unknown): boolean {
  const failure = loginSide(error);
  return failure !== undefined && (failure.retry === 'transient' || REFUSED_BY_AUTH_SERVER.has(failure.code));
}

/** Worded "login failed: …": every failure of the login side but the store's own, whose message says what to do about the store. */
function isLoginFailure(error: unknown): boolean {
  const failure = loginSide(error);
  return failure !== undefined && failure.code !== 'token_store_unavailable';
}

/** The failure's code, when it is one of the gateway's errors. */
export const failureCode = (error: unknown): GatewayErrorCode | undefined => (error instanceof GatewayError ? error.code : undefined);

/** Why a connection attempt failed, in words that say what to check. */
export function explainFailure(
  config: ServerConfig,
  error: unknown,
  httpStatus: number | undefined,
  stderrLine: string | undefined,
): string {
  const message = errorMessage(error);
  if (config.kind === 'stdio') {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `command not found: ${config.command} (check "command" and PATH)`;
    if (code === 'EACCES') return `command not executable: ${config.command}`;
    if (error instanceof ServerClosedError) return `process exited during start${stderrLine ? ` (last stderr: ${stderrLine})` : ''}`;
    return stderrLine ? `${message} (last stderr: ${stderrLine})` : message;
  }
  if (httpStatus === 401) return 'the server requires an OAuth login (HTTP 401) and none succeeded';
  if (isLoginFailure(error)) return `login failed: ${redact(message)}`;
  const network = networkError(error);
  const cause = ((network ?? error) as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code === 'ECONNREFUSED') return `cannot reach ${config.url}: connection refused (is the server running?)`;
  if (cause?.code === 'ENOTFOUND') return `cannot reach ${config.url}: host not found`;
  if (network && cause?.message) return `cannot reach ${config.url}: ${cause.message}`;
  return message;
}

/** Why a ready server's connection closed. */
export function explainClose(config: ServerConfig, stderrLine: string | undefined): string {
  return config.kind === 'stdio' ? `process exited${stderrLine ? ` (last stderr: ${stderrLine})` : ''}` : 'connection closed by the server';
}

/**
 * The failure of a request that never got an HTTP answer (refused, reset, unreachable), itself
 * or as the cause of another error: fetch rejects with a TypeError whose cause is the system
 * error, with its code (ECONNREFUSED, ECONNRESET, ENOTFOUND…).
 */
export function networkError(error: unknown): TypeError | undefined {
  const isNetwork = (candidate: unknown): candidate is TypeError =>
    candidate instanceof TypeError && typeof (candidate as { cause?: { code?: unknown } }).cause?.code === 'string';
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  return isNetwork(error) ? error : isNetwork(cause) ? cause : undefined;
}

/** What a failed request means for the connection, and the words for the request's caller. */
export type RequestFailure =
  | { act: 'log-in-again'; message: string }
  | { act: 'step-up'; message: string }
  | { act: 'auth-unavailable'; retry: boolean; message: string }
  | { act: 'reconnect'; reason: string; message: string }
  | { act: 'none' };

/**
 * Reads a failed request (a relayed call, or one through the SDK client): a 401 needs a new
 * login; a 403 asking for more scopes a login for them (when `takeStepUp` allows one more, or
 * one is under way), which the request waits for before it is sent again (see StepUp); an
 * authorization server that cannot be reached or refuses leaves the server failed (retried
 * slowly, or not); an HTTP server that gave no answer went away. Anything else is the
 * request's own failure.
 */
export function readRequestFailure(
  config: ServerConfig,
  error: unknown,
  httpStatus: number | undefined,
  takeStepUp: () => boolean,
): RequestFailure {
  if (httpStatus === 401)
    return { act: 'log-in-again', message: 'the server asked for a new login; logging in again (retry the call once it is ready)' };
  if (httpStatus === 403 && takeStepUp()) {
    return {
      act: 'step-up',
      message: 'the server needs more permissions for this; the call waits for a login that grants them, then is sent again',
    };
  }
  if (isAuthServerFailure(error)) {
    const retry = isRetryableAuthError(error);
    return {
      act: 'auth-unavailable',
      retry,
      message: `${redact(errorMessage(error))}${retry ? '; the gateway retries in the background' : ''}`,
    };
  }
  const network = networkError(error);
  if (config.kind === 'http' && network) {
    const reason = explainFailure(config, network, undefined, undefined);
    return { act: 'reconnect', reason, message: `${reason}; reconnecting` };
  }
  return { act: 'none' };
}
