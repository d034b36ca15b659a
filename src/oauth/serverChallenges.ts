import type { Logger } from '../log/logger.js';
import { unionOfScopes } from './scopePolicy.js';
import { bearerChallenge } from './wwwAuthenticate.js';

/** Logins that add scopes a 403 asked for, per server and process, before the gateway stops asking. */
export const MAX_STEP_UPS = 2;

/**
 * What the server's `WWW-Authenticate` challenges asked for (RFC 6750 §3): the last 401's
 * resource metadata URL and scope, and the scopes of 403 `insufficient_scope` answers, which
 * make the next login a step-up.
 * @see [RFC 6750 §3.1](https://www.rfc-editor.org/rfc/rfc6750.html#section-3.1), [RFC 9728 §5.1](https://www.rfc-editor.org/rfc/rfc9728.html#section-5.1)
 */
export class ServerChallenges {
  /** The `resource_metadata` of the last 401. */
  resourceMetadata?: string;
  /** The `scope` of the last 401. */
  scope?: string;
  /** Every scope the 403s asked for: the next login asks for them with those held. */
  stepUpScope?: string;
  /**
   * Why the last `insufficient_scope` answer brings no new login, in words for the call it
   * failed: its scopes were all asked for by an earlier step-up (the authorization server did
   * not grant them), or the step-ups are used up. Undefined when the last 403 brings a login
   * or is not `insufficient_scope`.
   */
  noStepUp?: string;
  /** The scopes the last step-up login asked for, on top of those held. */
  private asked?: string;
  private stepUps = 0;
  private stepUpPending = false;

  /** A 401: its Bearer challenge (if any) replaces the one remembered. */
  unauthorized(header: string | null): void {
    const bearer = bearerChallenge(header);
    if (!bearer) return;
    this.resourceMetadata = bearer.resourceMetadata;
    this.scope = bearer.scope;
  }

  /**
   * A 403: if it is `insufficient_scope`, the next login asks for the scopes held plus the ones
   * named, at most MAX_STEP_UPS times per server, so a server that always wants more cannot
   * loop; and never again for scopes an earlier step-up already asked for (the same challenge
   * after a step-up means the authorization server does not grant them: another login would
   * only open another tab).
   */
  forbidden(header: string | null, log: Logger): void {
    const bearer = bearerChallenge(header);
    this.noStepUp = undefined;
    if (bearer?.error !== 'insufficient_scope') return;
    const named = bearer.scope ?? 'unnamed';
    if (this.asked !== undefined && unionOfScopes(this.asked, bearer.scope).length === unionOfScopes(this.asked).length) {
      this.noStepUp = `it asks for ${named}, which the login for more permissions already asked for; the authorization server did not grant it`;
      log.info(`the server needs more permissions (insufficient_scope: ${named}) that a login already asked for; no new login for them`);
      return;
    }
    if (this.stepUps >= MAX_STEP_UPS) {
      this.noStepUp = `it asks for ${named} after ${MAX_STEP_UPS} logins for more permissions; the gateway does not log in again for it`;
      log.warn(`the server asks for more scopes (${named}) again; not logging in again after ${MAX_STEP_UPS} step-ups`);
      return;
    }
    this.stepUpScope = unionOfScopes(this.stepUpScope, bearer.scope).join(' ');
    this.stepUpPending = true;
    log.info(`the server needs more permissions (insufficient_scope: ${named}); a new login will ask for them`);
  }

  /** Whether a step-up login is due (and, by asking, it is no longer pending: the login is counted). */
  takeStepUp(): boolean {
    const pending = this.stepUpPending;
    this.stepUpPending = false;
    if (pending) {
      this.stepUps++;
      this.asked = this.stepUpScope;
    }
    return pending;
  }
}
