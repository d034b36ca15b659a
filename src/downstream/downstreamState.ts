import type { GatewayErrorCode } from '../shared/errors.js';

/**
 * Where one downstream server stands, as `gateway list` and the upstream see it, and what
 * moves it (src/downstream/downstream.ts):
 *
 *   connecting ──ok──────────────────────────────▶ ready
 *   connecting ──401/403──▶ needs-auth (login under way) ──login ok──▶ ready
 *   connecting ──a login cannot start (headless, tab limit)──▶ needs-auth (none under way)
 *   needs-auth (none under way) ──a call needs the server──▶ connecting
 *   connecting ──any other failure, never ready before──▶ failed
 *   failed ──authorization server unreachable──▶ (30 s … 5 min) ──▶ connecting
 *   ready ──process exit, connection lost──▶ reconnecting ──(1 s … 60 s)──▶ ready | reconnecting
 *   ready ──401 no refresh cures──▶ connecting (logs in again)
 *   ready ──403 insufficient_scope──▶ ready (the call held for a login for more scopes, then sent again; see stepUp.ts)
 *   ready ──authorization server down for good──▶ failed (retried slowly)
 *   any ──close()──▶ (closed; nothing moves again)
 */
export type DownstreamState =
  | { status: 'disabled' }
  | { status: 'connecting' }
  | { status: 'ready' }
  /**
   * It needs a login. `loginInProgress`: a login is under way (a browser tab or the client's
   * URL elicitation is open, or the URL was printed) and may still finish; otherwise none can
   * start by itself (headless, or the browser-tab limit), and a call to the server starts one.
   */
  | { status: 'needs-auth'; reason: string; authorizationUrl?: string; loginInProgress: boolean }
  /** It was ready and went away; the gateway is connecting it again (its tools stay listed). */
  | { status: 'reconnecting'; reason: string; attempt: number; nextAttemptAt: number }
  /** `code`: the failure's, when it is one of the gateway's errors (src/shared/errors.ts), for code to act on instead of the words. */
  | { status: 'failed'; reason: string; code?: GatewayErrorCode };

export function describeState(state: DownstreamState): string {
  switch (state.status) {
    case 'failed':
      return `failed: ${state.reason}`;
    case 'needs-auth':
      return `needs-auth: ${state.reason}${state.authorizationUrl ? ` (open ${state.authorizationUrl})` : ''}`;
    case 'reconnecting': {
      const wait = Math.max(0, Math.ceil((state.nextAttemptAt - Date.now()) / 1000));
      return `reconnecting (attempt ${state.attempt}${wait ? `, next in ${wait} s` : ''}): ${state.reason}`;
    }
    default:
      return state.status;
  }
}

/**
 * Whether a server has come to rest for now: ready, failed, disabled, or needing a login that
 * cannot finish by itself. The first lists wait for servers that have not (gateway/startupGate).
 */
export function hasSettled(state: DownstreamState): boolean {
  switch (state.status) {
    case 'connecting':
    case 'reconnecting':
      return false;
    case 'needs-auth':
      return !state.loginInProgress;
    default:
      return true;
  }
}

/** Whether a call to the server may wait for it: it is on its way to ready, or a login can bring it there. */
export function isWorthWaitingFor(state: DownstreamState): boolean {
  return state.status === 'connecting' || state.status === 'reconnecting' || state.status === 'needs-auth';
}
