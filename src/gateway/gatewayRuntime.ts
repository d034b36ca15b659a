import { gatewayPaths } from '../config/gatewayPaths.js';
import type { GatewayConfig } from '../config/types.js';
import { DownstreamSet } from '../downstream/downstreamSet.js';
import type { AuthSettings } from '../downstream/downstream.js';
import { Logger, type LogLevel } from '../log/logger.js';
import { createBackend } from '../oauth/storage/createBackend.js';
import type { TokenStoreMode } from '../oauth/storage/storeBackend.js';
import { TokenStore } from '../oauth/tokenStore.js';

export interface RuntimeOptions {
  logLevel?: LogLevel;
  logFile?: string;
  /** Print login URLs instead of opening a browser. */
  noBrowser?: boolean;
  /** Never start an interactive login: servers that need one fail with what to do. */
  headless?: boolean;
  /** `--token-store`: overrides `gateway.tokenStore`. */
  tokenStore?: TokenStoreMode;
}

export function createLogger(config: GatewayConfig, options: RuntimeOptions): Logger {
  return new Logger({
    level: options.logLevel ?? config.gateway.logLevel ?? 'info',
    file: options.logFile ?? config.gateway.logFile,
  });
}

/** The token store the config and options ask for (file by default), under MCP_GATEWAY_HOME or the user data dir. */
export function createTokenStore(config: GatewayConfig | undefined, options: RuntimeOptions, log?: Logger): TokenStore {
  const root = gatewayPaths().data;
  const mode = options.tokenStore ?? config?.gateway.tokenStore ?? 'file';
  return new TokenStore(root, log, createBackend(mode, root));
}

/** The logger and downstreams that `serve` and `list` both start from a config. */
export function createRuntime(config: GatewayConfig, options: RuntimeOptions): { log: Logger; downstreams: DownstreamSet; authSettings: AuthSettings } {
  const log = createLogger(config, options);
  for (const warning of config.warnings) log.warn(warning);
  const store = createTokenStore(config, options, log);
  const auth: AuthSettings = { store, noBrowser: options.noBrowser, headless: options.headless, callbackTimeoutMs: config.gateway.callbackTimeout };
  return { log, downstreams: new DownstreamSet(config, log, auth), authSettings: auth };
}
