import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { GatewayConfig } from '../config/types.js';
import { bridgeIdentity } from '../gateway/bridgeIdentity.js';
import { relayedClientCapabilities } from '../gateway/clientRequests.js';
import { gatewayInstructions } from '../gateway/gatewayInstructions.js';
import { HeldTransport } from '../gateway/heldTransport.js';
import { LoginElicitation } from '../gateway/loginElicitation.js';
import { SessionHub } from '../gateway/sessionHub.js';
import { UpstreamServer } from '../gateway/upstreamServer.js';
import { errorMessage } from '../log/logger.js';
import { assertSdkInternals, useLineMessageBuffer } from '../shared/sdkInternals.js';
import { LineWriter } from '../shared/lineWriter.js';
import { composeServing, startServers, stopper, type ServeOptions } from './serveSupport.js';

const START_DOWNSTREAMS_AFTER_MS = 500;

/**
 * `gateway serve`: one MCP server on stdio in front of every configured server (or, with
 * `--server NAME`, that one bridged). stdout carries only JSON-RPC; everything else goes to
 * stderr / the log file.
 */
export async function serve(config: GatewayConfig, options: ServeOptions): Promise<void> {
  assertSdkInternals();
  if (options.bridge) return serveBridge(config, options);
  const { log, downstreams, authSettings, runtime, mode, rulesFile, startup, catalogOptions } = composeServing(config, options);
  const upstream = new UpstreamServer(downstreams, log, {
    ...catalogOptions,
    instructions: gatewayInstructions(downstreams.servers, mode),
  });
  // Servers start after the client's `initialize`: each is told what that client can do, no more.
  runtime.clientCapabilities = () => relayedClientCapabilities(upstream.server.getClientCapabilities());
  rulesFile.watch(() => upstream.rulesChanged());
  // A login URL goes to the MCP client when it can show one (URL elicitation); else a browser opens here.
  const logins = new LoginElicitation(() => [upstream.server], downstreams, log);
  authSettings.presentLoginUrl = (server, url) => logins.present(server, url);
  // Answer `initialize` first; downstreams join as they become ready.
  const out = new LineWriter(process.stdout);
  await upstream.connect(useLineMessageBuffer(new StdioServerTransport()), (line) => void out.write(line));

  const { stop, stopping } = stopper(log, () => Promise.allSettled([downstreams.closeAll(), upstream.close()]));
  stopOnStdio(stop);
  // Start the servers once the client has its `initialize` answer (or after a moment if no
  // client speaks): spawning many children at once would otherwise slow that first answer.
  await upstream.initializedOrAfter(START_DOWNSTREAMS_AFTER_MS);
  if (stopping()) return;
  await startServers(config, downstreams, startup, log);
}

/** Claude Desktop ends the gateway by closing its stdin. */
function stopOnStdio(stop: (why: string) => Promise<void>): void {
  process.stdin.on('end', () => void stop('stdin closed'));
  process.stdin.on('close', () => void stop('stdin closed'));
  process.stdout.on('error', (error) => void stop(`stdout: ${errorMessage(error)}`));
}

/**
 * `serve --server NAME` on stdio: the client's `initialize` is held until the server has
 * started (told what that client can do) and is answered with the server's own name,
 * capabilities and instructions; then everything passes through, names unprefixed.
 */
async function serveBridge(config: GatewayConfig, options: ServeOptions): Promise<void> {
  const { log, downstreams, authSettings, startup, catalogOptions, select } = composeServing(config, options);
  let started: Promise<void> | undefined;
  const hub = new SessionHub(downstreams, log, {
    ...catalogOptions,
    sessionOptions: async () => {
      await (started ??= startServers(config, downstreams, startup, log, select));
      return bridgeIdentity(downstreams.servers[0]!);
    },
  });
  const logins = new LoginElicitation(() => hub.clients(), downstreams, log);
  authSettings.presentLoginUrl = (server, url) => logins.present(server, url);
  const { stop } = stopper(log, () => Promise.allSettled([downstreams.closeAll(), hub.closeAll('the gateway is stopping')]));
  stopOnStdio(stop);
  const transport = new HeldTransport(useLineMessageBuffer(new StdioServerTransport()));
  await transport.open();
  const initialize = await transport.firstMessage;
  const out = new LineWriter(process.stdout);
  await hub.open('stdio', transport, { initialize, writeRawLine: (line) => void out.write(line) });
}
