import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { GatewayConfig } from '../config/types.js';
import { describeState } from '../downstream/downstreamState.js';
import { killAllChildren } from '../downstream/childProcesses.js';
import { createRuntime, type RuntimeOptions } from './gatewayRuntime.js';
import { UpstreamServer } from '../gateway/upstreamServer.js';
import { errorMessage } from '../log/logger.js';
import { assertSdkInternals, useLineMessageBuffer } from '../shared/sdkInternals.js';
import { LineWriter } from '../shared/lineWriter.js';
import { watchConfig } from '../config/configWatcher.js';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DEFAULT_RULES_FILE } from '../gateway/rules/accessRules.js';
import { RulesFile } from '../gateway/rules/rulesFile.js';
import { LoginElicitation } from '../gateway/loginElicitation.js';
import { StartupGate } from '../gateway/startupGate.js';
import { gatewayInstructions } from '../gateway/gatewayInstructions.js';
import { relayedClientCapabilities } from '../gateway/clientRequests.js';
import { DEFAULT_STARTUP_TIMEOUT_MS } from '../config/types.js';

const START_DOWNSTREAMS_AFTER_MS = 500;

/**
 * `gateway serve`: one MCP server on stdio in front of every configured server.
 * stdout carries only JSON-RPC; everything else goes to stderr / the log file.
 */
export async function serve(
  config: GatewayConfig,
  options: RuntimeOptions & { mode?: 'aggregate' | 'meta'; agent?: string },
): Promise<void> {
  assertSdkInternals();
  const { log, downstreams, authSettings, runtime } = createRuntime(config, options);
  const mode = options.mode ?? config.gateway.mode ?? 'aggregate';
  const agent = options.agent ?? (process.env.MCP_GATEWAY_AGENT || undefined);
  const rulesFile = new RulesFile(config.gateway.rules ?? join(dirname(config.path), DEFAULT_RULES_FILE), log);
  // The first lists wait for servers without a cached catalog, never longer than one may take to connect.
  const startupMs = Math.min(config.gateway.startupTimeout ?? DEFAULT_STARTUP_TIMEOUT_MS, config.gateway.connectTimeout);
  const startup = new StartupGate(downstreams.servers, startupMs, log, (listener) => downstreams.on('changed', listener));
  const upstream = new UpstreamServer(downstreams, log, {
    maxCallsInFlight: config.gateway.maxCallsInFlight,
    mode,
    agent,
    rules: () => rulesFile.rules,
    startup,
    instructions: gatewayInstructions(downstreams.servers, mode),
  });
  // Servers start after the client's `initialize`: each is told what that client can do, no more.
  runtime.clientCapabilities = () => relayedClientCapabilities(upstream.server.getClientCapabilities());
  rulesFile.watch(() => upstream.rulesChanged());
  // A login URL goes to the MCP client when it can show one (URL elicitation); else a browser opens here.
  const logins = new LoginElicitation(upstream.server, downstreams, log);
  authSettings.presentLoginUrl = (server, url) => logins.present(server, url);
  if (mode === 'meta' || agent || existsSync(rulesFile.path!)) {
    log.info(`mode ${mode}${agent ? `, agent "${agent}"` : ''}${existsSync(rulesFile.path!) ? `, access rules ${rulesFile.path}` : ''}`);
  }
  // Answer `initialize` first; downstreams join as they become ready.
  const out = new LineWriter(process.stdout);
  await upstream.connect(useLineMessageBuffer(new StdioServerTransport()), (line) => void out.write(line));

  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`stopping (${why})`);
    const deadline = setTimeout(() => {
      killAllChildren();
      process.exit(0);
    }, 5000);
    deadline.unref();
    await Promise.allSettled([downstreams.closeAll(), upstream.close()]);
    process.exit(0);
  };
  // Claude Desktop ends the gateway by closing its stdin.
  process.stdin.on('end', () => void stop('stdin closed'));
  process.stdin.on('close', () => void stop('stdin closed'));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.stdout.on('error', (error) => void stop(`stdout: ${errorMessage(error)}`));

  // Start the servers once the client has its `initialize` answer (or after a moment if no
  // client speaks): spawning many children at once would otherwise slow that first answer.
  await upstream.initializedOrAfter(START_DOWNSTREAMS_AFTER_MS);
  if (stopping) return;
  const enabled = downstreams.servers.filter((server) => server.state.status !== 'disabled');
  const cached = enabled.filter((server) => server.fromCache).map((server) => server.name);
  log.info(
    `${config.path}: connecting to ${enabled.length} server${enabled.length === 1 ? '' : 's'}…${cached.length ? ` (shown from the catalog cache meanwhile: ${cached.join(', ')})` : ''}`,
  );
  // Edits to the config apply while serving: added servers connect, removed ones close,
  // changed ones restart; an invalid edit is reported and the running set stays.
  const stopWatching = watchConfig(
    config.path,
    (next) => {
      for (const warning of next.warnings) log.warn(warning);
      void downstreams.apply(next).then((changes) => {
        const said = [
          changes.added.length ? `added ${changes.added.join(', ')}` : '',
          changes.removed.length ? `removed ${changes.removed.join(', ')}` : '',
          changes.restarted.length ? `restarted ${changes.restarted.join(', ')}` : '',
        ].filter(Boolean);
        log.info(`${config.path} changed: ${said.join('; ') || 'no server changed'}`);
      });
    },
    (message) => log.error(`config not reloaded: ${message}; still serving the previous config`),
  );
  process.once('exit', stopWatching);
  // The gate first: with every server cached it opens now, and a list already waiting is
  // answered before the servers are spawned (30 spawns hold the event loop for a while).
  startup.start();
  await downstreams.connectAll();
  if (stopping) return;
  const ready = enabled.filter((server) => server.state.status === 'ready');
  const notReady = enabled.filter((server) => server.state.status !== 'ready');
  log.info(
    `${ready.length} of ${enabled.length} servers ready` +
      (notReady.length ? `; ${notReady.map((s) => `${s.name}: ${describeState(s.state)}`).join('; ')}` : ''),
  );
}
