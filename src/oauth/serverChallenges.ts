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
   * named, at most MAX_STEP_UPS times per server, so a server that always wants more cannot loop.
   */
  forbidden(header: string | null, log: Logger): void {
    const bearer = bearerChallenge(header);
    if (bearer?.error !== 'insufficient_scope') return;
    if (this.stepUps >= MAX_STEP_UPS) {
      log.warn(`the server asks for more scopes (${bearer.scope ?? 'unnamed'}) again; not logging in again after ${MAX_STEP_UPS} step-ups`);
      return;
    }
    this.stepUps++;
    this.stepUpScope = unionOfScopes(this.stepUpScope, bearer.scope).join(' ');
    this.stepUpPending = true;
    log.info(`the server needs more permissions (insufficient_scope: ${bearer.scope ?? 'unnamed'}); a new login will ask for them`);
  }

  /** Whether a step-up login is due (and, by asking, it is no longer pending). */
  takeStepUp(): boolean {
    const pending = this.stepUpPending;
    this.stepUpPending = false;
    return pending;
  }
}
