import { gatewayPaths } from '../config/gatewayPaths.js';
import type { GatewayConfig, ListenAddress } from '../config/types.js';
import { AccessTokenCheck, accessTokenPath, readOrCreateAccessToken } from '../front/accessToken.js';
import { HttpFront } from '../front/httpFront.js';
import { DEFAULT_MAX_SESSIONS, DEFAULT_SESSION_IDLE_MS } from '../front/mcpEndpoint.js';
import { localTokenAuth, withLocalStatus } from '../front/tokenAuth.js';
import { bridgeIdentity } from '../gateway/bridgeIdentity.js';
import { gatewayInstructions } from '../gateway/gatewayInstructions.js';
import { LoginElicitation } from '../gateway/loginElicitation.js';
import { SessionHub } from '../gateway/sessionHub.js';
import { assertSdkInternals } from '../shared/sdkInternals.js';
import { watchFile } from '../shared/watchFile.js';
import { reportServer } from './formatServerList.js';
import { forgetServing, recordServing } from './servingRecord.js';
import { composeServing, startServers, stopper, type ServeOptions } from './serveSupport.js';

/**
 * `gateway serve --http [HOST:]PORT`: the gateway as a Streamable HTTP server, one session
 * per client over one set of servers, each request authorized with the local token.
 */
export async function serveHttp(config: GatewayConfig, options: ServeOptions & { listen: ListenAddress }): Promise<void> {
  assertSdkInternals();
  const { log, downstreams, authSettings, mode, rulesFile, startup, catalogOptions, select } = composeServing(config, options);
  let started: Promise<void> | undefined;
  const start = () => (started ??= startServers(config, downstreams, startup, log, select));
  const hub = new SessionHub(downstreams, log, {
    ...catalogOptions,
    // A bridged server's `initialize` answer is its own: the first session starts it and waits for it.
    sessionOptions: options.bridge
      ? async () => {
          await start();
          return bridgeIdentity(downstreams.servers[0]!);
        }
      : () => Promise.resolve({ instructions: gatewayInstructions(downstreams.servers, mode) }),
  });
  rulesFile.watch(() => hub.rulesChanged());
  const logins = new LoginElicitation(() => hub.clients(), downstreams, log);
  authSettings.presentLoginUrl = (server, url) => logins.present(server, url);

  const dataDir = gatewayPaths().data;
  const tokenCheck = new AccessTokenCheck(await readOrCreateAccessToken(dataDir));
  const stopWatchingToken = watchFile(
    accessTokenPath(dataDir),
    (text) => {
      tokenCheck.replace(text.trim());
      log.info('the HTTP access token was replaced (gateway http-token --rotate): the old one is refused from now on');
    },
    (message) => log.warn(message),
  );
  const http = config.gateway.http;
  const oauth = http?.auth;
  const front = await HttpFront.start(hub, log, {
    ...options.listen,
    // Behind a proxy with OAuth, pages of the gateway's own (the consent form) come from its public origin.
    allowedOrigins: [...(http?.allowedOrigins ?? []), ...(oauth?.publicUrl ? [new URL(oauth.publicUrl).origin] : [])],
    trustProxy: http?.trustProxy ?? false,
    maxSessions: http?.maxSessions ?? DEFAULT_MAX_SESSIONS,
    idleMs: http?.sessionIdleTimeout ?? DEFAULT_SESSION_IDLE_MS,
    auth: async (own) => {
      if (!oauth) return localTokenAuth(tokenCheck);
      const { oauthFront } = await import('../front/auth/oauthFront.js');
      return withLocalStatus(await oauthFront(oauth, oauth.publicUrl ?? own, http.trustProxy, log), tokenCheck);
    },
    status: () => ({ config: config.path, servers: downstreams.servers.map(reportServer) }),
  });
  await recordServing(dataDir, { pid: process.pid, url: front.url, config: config.path });
  const who = oauth ? 'clients log in with OAuth' : 'each request needs the token that gateway http-token prints';
  log.info(`serving MCP over Streamable HTTP at ${front.url} (${who})`);
  stopper(log, async () => {
    stopWatchingToken();
    await front.close();
    await Promise.allSettled([downstreams.closeAll(), forgetServing(dataDir, process.pid)]);
  });
  // The servers start once a first client has initialized, so each is told what that client can do.
  await hub.initializedOrAfter();
  await start();
}
