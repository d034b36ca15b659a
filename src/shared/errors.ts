/**
 * The gateway's own errors, one class per condition (in the style of the SDK's
 * `server/auth/errors.ts`): each has a stable `code` for code to branch on and logs to show,
 * a `retry` class saying what may mend it, and its `cause` (ES2022) when it wraps another
 * error. Messages are for people and say what to do; nothing branches on a message or a name.
 */

/**
 * What may mend a failure:
 * - `transient`: trying again later, as it is (network trouble, a busy lock);
 * - `needs-login`: a login by the user (a browser, `gateway auth login`), which cannot start by itself now;
 * - `fatal`: neither; something must change first (the config, the store, the server, the machine).
 */
export type RetryClass = 'transient' | 'needs-login' | 'fatal';

export type GatewayErrorCode =
  | 'oauth_flow'
  | 'unsafe_authorization_server'
  | 'transient_auth'
  | 'login_required'
  | 'callback_port_in_use'
  | 'lock_timeout'
  | 'lock_unavailable'
  | 'token_store_unavailable'
  | 'bundle_invalid'
  | 'config_invalid'
  | 'config_not_found'
  | 'rules_invalid'
  | 'usage'
  | 'passphrase_invalid'
  | 'server_closed'
  | 'connect_timeout'
  | 'insufficient_scope'
  | 'identity_assertion_denied'
  | 'identity_assertion_rejected'
  | 'identity_sign_in_required'
  | 'id_token_invalid'
  | 'bridge_unavailable'
  | 'front_identity_provider';

export abstract class GatewayError extends Error {
  abstract readonly code: GatewayErrorCode;
  abstract readonly retry: RetryClass;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * A login flow ended without tokens: refused at the authorization server, timed out, or
 * rejected by a check. `oauthError` is the OAuth `error` (RFC 6749 §4.1.2.1, §5.2), or the
 * gateway's word for why the flow ended (`invalid_iss`, `callback_timeout`, `port_in_use`…).
 */
export class OAuthFlowError extends GatewayError {
  readonly code = 'oauth_flow';
  readonly retry = 'fatal';

  constructor(
    readonly oauthError: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The authorization server (or its metadata) breaks a rule the gateway insists on. */
export class UnsafeAuthorizationServerError extends GatewayError {
  readonly code = 'unsafe_authorization_server';
  readonly retry = 'fatal';
}

/** A failure worth retrying later without a new login: network errors, 5xx, 429, `temporarily_unavailable`. */
export class TransientAuthError extends GatewayError {
  readonly code = 'transient_auth';
  readonly retry = 'transient';
}

/** The server needs an interactive login that cannot happen now (headless, or launched too recently). */
export class LoginRequiredError extends GatewayError {
  readonly code = 'login_required';
  readonly retry = 'needs-login';

  constructor(
    message: string,
    readonly authorizationUrl?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The loopback port for the OAuth redirect is taken by another program (or not allowed). */
export class CallbackPortInUseError extends GatewayError {
  readonly code = 'callback_port_in_use';
  readonly retry = 'fatal';

  constructor(
    readonly port: number,
    options?: ErrorOptions,
  ) {
    super(`the OAuth callback port 127.0.0.1:${port} is in use by another program`, options);
  }
}

/** Another gateway process held a server's store lock for too long. */
export class LockTimeoutError extends GatewayError {
  readonly code = 'lock_timeout';
  readonly retry = 'transient';

  constructor(path: string, owner: { pid: number } | undefined, waitedMs: number) {
    super(
      `another gateway process${owner ? ` (pid ${owner.pid})` : ''} has held ${path} for over ${Math.round(waitedMs / 1000)} s; ` +
        'if no gateway is logging in, delete that file',
    );
  }
}

/** The lock cannot be taken at all (read-only or full disk, no permission): not a wait. */
export class LockUnavailableError extends GatewayError {
  readonly code = 'lock_unavailable';
  readonly retry = 'fatal';

  constructor(path: string, cause: unknown) {
    super(`cannot create the lock ${path} (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
  }
}

/** The token store cannot be used at all as configured (missing keychain, wrong key): not a corrupt entry. */
export class TokenStoreUnavailableError extends GatewayError {
  readonly code = 'token_store_unavailable';
  readonly retry = 'fatal';
}

/** A login export that cannot be imported (not one, damaged, altered, a wrong passphrase). */
export class BundleError extends GatewayError {
  readonly code = 'bundle_invalid';
  readonly retry = 'fatal';
}

/** A problem with the config file, worded for the user: it names the file and the field. */
export class ConfigError extends GatewayError {
  readonly code: GatewayErrorCode = 'config_invalid';
  readonly retry = 'fatal';
}

/** No config file where one was looked for: `candidates` are the paths tried; `explicit`, given with --config. */
export class ConfigNotFoundError extends ConfigError {
  override readonly code: GatewayErrorCode = 'config_not_found';

  constructor(
    message: string,
    readonly candidates: string[],
    readonly explicit: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A problem with the access rules file (gateway.accessRules). */
export class RulesError extends GatewayError {
  readonly code = 'rules_invalid';
  readonly retry = 'fatal';
}

/** A passphrase typed at the terminal that cannot be used (empty, or its confirmation differs). */
export class PassphraseError extends GatewayError {
  readonly code = 'passphrase_invalid';
  readonly retry = 'fatal';
}

/**
 * A server closed the connection before it was ready (a stdio process that exited, an HTTP
 * stream that ended). The message is the SDK's; `cause` is its error.
 */
export class ServerClosedError extends GatewayError {
  readonly code = 'server_closed';
  readonly retry = 'transient';
}

/** A server did not finish connecting (initialize and its lists) within gateway.connectTimeout. */
export class ConnectTimeoutError extends GatewayError {
  readonly code = 'connect_timeout';
  readonly retry = 'transient';

  constructor(readonly timeoutMs: number) {
    super(`did not finish connecting within ${timeoutMs} ms`);
  }
}

/** A command given what it cannot do: the arguments and options, not the config, are wrong. */
export class UsageError extends GatewayError {
  readonly code = 'usage';
  readonly retry = 'fatal';
}

/**
 * A call the server refused for want of scopes (HTTP 403 `insufficient_scope`) that no login
 * for more permissions can mend now: it was refused again after one, no login is allowed, or the
 * login failed or did not finish in time. `retry` is `needs-login`: a login by the user may.
 */
export class InsufficientScopeError extends GatewayError {
  readonly code = 'insufficient_scope';
  readonly retry = 'needs-login';
}

/**
 * The identity provider refused to issue an ID-JAG for one server (RFC 8693 token exchange:
 * `access_denied`, `invalid_target`, `invalid_grant`, `invalid_scope`…): its administrator has not
 * granted this user that server. `oauthError` is the IdP's `error`; the message names the server
 * and what to ask the administrator. Only that server is affected.
 */
export class IdentityAssertionDeniedError extends GatewayError {
  readonly code = 'identity_assertion_denied';
  readonly retry = 'fatal';

  constructor(
    readonly oauthError: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * A server's authorization server refused the ID-JAG the identity provider issued (the JWT
 * bearer grant answered `invalid_grant`, `invalid_client`…): the two do not trust each other as
 * configured (issuer, audience, resource, client), or the grant was altered on its way.
 */
export class IdentityAssertionRejectedError extends GatewayError {
  readonly code = 'identity_assertion_rejected';
  readonly retry = 'fatal';

  constructor(
    readonly oauthError: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The identity provider sign-in has expired (or never happened) and none can start now: headless, or a silent renewal. */
export class IdentitySignInRequiredError extends GatewayError {
  readonly code = 'identity_sign_in_required';
  readonly retry = 'needs-login';
}

/**
 * An ID token failed validation (OpenID Connect Core §3.1.3.7): its signature, issuer, audience,
 * expiry or nonce; or an ID token handed to the gateway (`identityProvider.idToken`,
 * `MCP_GATEWAY_ID_TOKEN`) has expired. Nothing is stored; the message says which check failed.
 */
export class IdTokenInvalidError extends GatewayError {
  readonly code = 'id_token_invalid';
  readonly retry = 'fatal';
}

/** `serve --server NAME`: the one server bridged is not ready, so a client's `initialize` has nothing to answer with. */
export class BridgeUnavailableError extends GatewayError {
  readonly code = 'bridge_unavailable';
  readonly retry = 'transient';

  constructor(
    readonly server: string,
    state: string,
  ) {
    super(`the bridged server "${server}" is not available (${state}); try again once it is (gateway list shows why)`);
  }
}

/**
 * The identity provider behind the HTTP front's OAuth (gateway.http.auth) cannot be used: no
 * metadata at its issuer, no UserInfo endpoint, or an answer about the user that is not one.
 */
export class FrontIdentityProviderError extends GatewayError {
  readonly code = 'front_identity_provider';
  readonly retry = 'transient';
}
