import type { Downstream } from '../downstream/downstream.js';
import { describeState } from '../downstream/downstreamState.js';
import type { forwardOptions } from './forwardOptions.js';

type Extra = Parameters<typeof forwardOptions>[0];

import { LOGIN_WAIT_MS } from '../downstream/stepUp.js';
import { ignoreFailure } from '../shared/bestEffort.js';

export { LOGIN_WAIT_MS };
const PROGRESS_EVERY_MS = 1000;

/**
 * Lets a request for a server that is not ready yet wait for it: up to the server's connect
 * timeout while it starts or reconnects, up to a minute while a login runs (a server that
 * needs one with none under way starts it). When the request carries a progress token the
 * caller gets a progress notification every second meanwhile, so its own timeout, when reset
 * by progress, does not run out. Returns undefined once the server is ready, else what to
 * tell the user.
 */
export async function awaitServer(server: Downstream, extra: Extra): Promise<string | undefined> {
  if (server.state.status === 'ready') return undefined;
  const stopProgress = reportProgress(server, extra);
  try {
    const ready = await server.whenReady({ startMs: server.connectTimeoutMs, loginMs: LOGIN_WAIT_MS, signal: extra.signal });
    return ready ? undefined : notReadyReason(server);
  } finally {
    stopProgress();
  }
}

/** Why a server cannot take a request, with what to do when a login is what it needs. */
export function notReadyReason(server: Downstream): string {
  const state = server.state;
  if (state.status === 'needs-auth') {
    return state.authorizationUrl
      ? `server "${server.name}" needs a login: open ${state.authorizationUrl} in a browser and approve, then call again (or run \`gateway auth login ${server.name}\`)`
      : `server "${server.name}" needs a login (${state.reason}); run \`gateway auth login ${server.name}\`, then call again`;
  }
  return `server "${server.name}" is not available (${describeState(state)})`;
}

function reportProgress(server: Downstream, extra: Extra): () => void {
  const token = extra._meta?.progressToken;
  if (token === undefined) return () => {};
  const started = Date.now();
  let progress = 0;
  const timer = setInterval(() => {
    const state = server.state;
    const seconds = Math.round((Date.now() - started) / 1000);
    const message =
      state.status === 'needs-auth'
        ? `waiting for the login to ${server.name}${state.authorizationUrl ? ` (open ${state.authorizationUrl})` : ''} (${seconds} s)`
        : `waiting for ${server.name} to start (${seconds} s)`;
    ignoreFailure(
      extra.sendNotification({
        method: 'notifications/progress',
        params: { progressToken: token, progress: ++progress, message },
      } as never),
    );
  }, PROGRESS_EVERY_MS);
  return () => clearInterval(timer);
}
