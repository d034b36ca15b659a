import type { Downstream } from './downstream.js';
import { isWorthWaitingFor } from './downstreamState.js';

export interface ReadyWait {
  /** How long to wait while the server starts or reconnects. */
  startMs: number;
  /** How long to wait from the moment a login is under way. */
  loginMs: number;
  signal?: AbortSignal;
}

/**
 * Resolves true once the server is ready, false once it can no longer get there by itself
 * (failed, closed, or needing a login that no attempt is bringing), the time is up or
 * `signal` aborts. A server that needs a login with none under way is connected again, which
 * starts one; logins and attempts are shared, so never two run for one server.
 */
export function waitUntilReady(server: Downstream, isClosed: () => boolean, { startMs, loginMs, signal }: ReadyWait): Promise<boolean> {
  const loginUnderWay = () => server.state.status === 'needs-auth' && server.state.loginInProgress;
  if (server.state.status === 'ready') return Promise.resolve(true);
  if (isClosed() || !isWorthWaitingFor(server.state)) return Promise.resolve(false);
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    let waitingForLogin = false;
    const arm = (ms: number) => {
      clearTimeout(timer);
      timer = setTimeout(() => done(false), ms);
    };
    const done = (ready: boolean) => {
      clearTimeout(timer);
      server.off('changed', check);
      signal?.removeEventListener('abort', aborted);
      resolve(ready);
    };
    const aborted = () => done(false);
    function check(): void {
      const state = server.state;
      if (state.status === 'ready') return done(true);
      const stuck = state.status === 'needs-auth' && !state.loginInProgress && !server.attempting;
      if (isClosed() || !isWorthWaitingFor(state) || stuck) return done(false);
      if (loginUnderWay() && !waitingForLogin) {
        waitingForLogin = true;
        arm(loginMs);
      }
    }
    waitingForLogin = loginUnderWay();
    arm(waitingForLogin ? loginMs : startMs);
    server.on('changed', check);
    signal?.addEventListener('abort', aborted, { once: true });
    if (server.state.status === 'needs-auth' && !server.state.loginInProgress) void server.connect().then(check);
    check();
  });
}
