import type { GatewayConfig } from '../config/types.js';
import { DownstreamSet } from '../downstream/downstreamSet.js';
import { Logger, type LogLevel } from '../log/logger.js';

export interface RuntimeOptions {
  logLevel?: LogLevel;
  logFile?: string;
}

/** The logger and downstreams that `serve` and `list` both start from a config. */
export function createRuntime(config: GatewayConfig, options: RuntimeOptions): { log: Logger; downstreams: DownstreamSet } {
  const log = new Logger({
    level: options.logLevel ?? config.gateway.logLevel ?? 'info',
    file: options.logFile ?? config.gateway.logFile,
  });
  for (const warning of config.warnings) log.warn(warning);
  return { log, downstreams: new DownstreamSet(config, log) };
}
