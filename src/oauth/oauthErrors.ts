/** Errors of the gateway's OAuth layer, each worded for the user with what to do. */

/** A login flow ended without tokens: refused at the authorization server, timed out, or rejected by a check. */
export class OAuthFlowError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'OAuthFlowError';
  }
}

/** The authorization server (or its metadata) breaks a rule the gateway insists on. */
export class UnsafeAuthorizationServerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsafeAuthorizationServerError';
  }
}

/** A failure worth retrying later without a new login: network errors, 5xx, 429, `temporarily_unavailable`. */
export class TransientAuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransientAuthError';
  }
}

/** The server needs an interactive login that cannot happen now (headless, or launched too recently). */
export class LoginRequiredError extends Error {
  constructor(
    message: string,
    readonly authorizationUrl?: string,
  ) {
    super(message);
    this.name = 'LoginRequiredError';
  }
}
