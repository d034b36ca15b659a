import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { watchConfig } from '../config/configWatcher.js';
import { DEFAULT_STARTUP_TIMEOUT_MS, type GatewayConfig } from '../config/types.js';
import { killAllChildren } from '../downstream/childProcesses.js';
import type { DownstreamSet } from '../downstream/downstreamSet.js';
import { describeState } from '../downstream/downstreamState.js';
import type { CatalogOptions } from '../gateway/gatewayCatalogs.js';
import { DEFAULT_RULES_FILE } from '../gateway/rules/accessRules.js';
import { RulesFile } from '../gateway/rules/rulesFile.js';
import { StartupGate } from '../gateway/startupGate.js';
import { errorMessage, type Logger } from '../log/logger.js';
import { UsageError } from '../shared/errors.js';
import { createRuntime, type RuntimeOptions } from './gatewayRuntime.js';

export interface ServeOptions extends RuntimeOptions {
  mode?: 'aggregate' | 'meta';
  agent?: string;
  /** `--server NAME`: that one server, bridged with its own names. */
  bridge?: string;
}

/** The one server of `--server NAME`, alone in the config; refused when the config has no such enabled server. */
export function bridgedConfig(config: GatewayConfig, name: string): GatewayConfig {
  const server = config.servers.find((candidate) => candidate.name === name);
  if (!server || server.disabled) {
    const names = config.servers.filter((candidate) => !candidate.disabled).map((candidate) => candidate.name);
    throw new UsageError(
      `--server ${name}: ${server ? 'that server is disabled in' : 'no such server in'} ${config.path}${names.length ? ` (its servers: ${names.join(', ')})` : ''}`,
    );
  }
  return { ...config, servers: [server] };
}

/** What both `serve` (stdio) and `serve --http` start from: the runtime, the access rules, the startup gate. */
export function composeServing(config: GatewayConfig, options: ServeOptions) {
  const select = (next: GatewayConfig) => (options.bridge ? bridgedConfig(next, options.bridge) : next);
  const served = select(config);
  const { log, downstreams, authSettings, runtime } = createRuntime(served, options);
  const mode = options.bridge ? 'aggregate' : (options.mode ?? config.gateway.mode ?? 'aggregate');
  const agent = options.agent ?? (process.env.MCP_GATEWAY_AGENT || undefined);
  const rulesFile = new RulesFile(config.gateway.rules ?? join(dirname(config.path), DEFAULT_RULES_FILE), log);
  // The first lists wait for servers without a cached catalog, never longer than one may take to connect.
  const startupMs = Math.min(config.gateway.startupTimeout ?? DEFAULT_STARTUP_TIMEOUT_MS, config.gateway.connectTimeout);
  const startup = new StartupGate(downstreams.servers, startupMs, log, (listener) => downstreams.on('changed', listener));
  const catalogOptions: CatalogOptions = {
    maxCallsInFlight: config.gateway.maxCallsInFlight,
    mode,
    agent,
    rules: () => rulesFile.rules,
    startup,
    bridge: options.bridge !== undefined,
  };
  if (mode === 'meta' || agent || existsSync(rulesFile.path!)) {
    log.info(`mode ${mode}${agent ? `, agent "${agent}"` : ''}${existsSync(rulesFile.path!) ? `, access rules ${rulesFile.path}` : ''}`);
  }
  return { log, downstreams, authSettings, runtime, mode, rulesFile, startup, catalogOptions, served, select };
}

/** Ends the process once `close` is done (or after 5 s, killing the servers' process groups). */
export function stopper(log: Logger, close: () => Promise<unknown>): { stop: (why: string) => Promise<void>; stopping: () => boolean } {
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
    await close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  return { stop, stopping: () => stopping };
}

/**
 * Connects every server and keeps the set in line with the config: edits apply while serving
 * (added servers connect, removed ones close, changed ones restart; an invalid edit is
 * reported and the running set stays).
 */
export async function startServers(
  config: GatewayConfig,
  downstreams: DownstreamSet,
  startup: StartupGate,
  log: Logger,
  select: (next: GatewayConfig) => GatewayConfig = (next) => next,
): Promise<void> {
  const enabled = downstreams.servers.filter((server) => server.state.status !== 'disabled');
  const cached = enabled.filter((server) => server.fromCache).map((server) => server.name);
  log.info(
    `${config.path}: connecting to ${enabled.length} server${enabled.length === 1 ? '' : 's'}…${cached.length ? ` (shown from the catalog cache meanwhile: ${cached.join(', ')})` : ''}`,
  );
  const stopWatching = watchConfig(
    config.path,
    (next) => {
      for (const warning of next.warnings) log.warn(warning);
      let selected: GatewayConfig;
      try {
        selected = select(next);
      } catch (error) {
        return log.error(`config not reloaded: ${errorMessage(error)}; still serving the previous config`);
      }
      void downstreams.apply(selected).then((changes) => {
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
  const ready = enabled.filter((server) => server.state.status === 'ready');
  const notReady = enabled.filter((server) => server.state.status !== 'ready');
  log.info(
    `${ready.length} of ${enabled.length} servers ready` +
      (notReady.length ? `; ${notReady.map((s) => `${s.name}: ${describeState(s.state)}`).join('; ')}` : ''),
  );
}
