import { gatewayPaths } from '../config/gatewayPaths.js';
import type { GatewayConfig } from '../config/types.js';
import { DownstreamSet } from '../downstream/downstreamSet.js';
import { Logger, type LogLevel } from '../log/logger.js';
import { TokenStore } from '../oauth/tokenStore.js';

export interface RuntimeOptions {
  logLevel?: LogLevel;
  logFile?: string;
  /** Print login URLs instead of opening a browser. */
  noBrowser?: boolean;
}

/** The logger and downstreams that `serve` and `list` both start from a config. */
export function createRuntime(config: GatewayConfig, options: RuntimeOptions): { log: Logger; downstreams: DownstreamSet } {
  const log = new Logger({
    level: options.logLevel ?? config.gateway.logLevel ?? 'info',
    file: options.logFile ?? config.gateway.logFile,
  });
  for (const warning of config.warnings) log.warn(warning);
  const store = new TokenStore(gatewayPaths().data, log);
  const auth = { store, noBrowser: options.noBrowser, callbackTimeoutMs: config.gateway.callbackTimeout };
  return { log, downstreams: new DownstreamSet(config, log, auth) };
}
