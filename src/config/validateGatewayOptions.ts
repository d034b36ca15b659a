import { dirname, isAbsolute, resolve } from 'node:path';
import { ConfigError } from '../shared/errors.js';
import { expectObject, expectString, optionalPositiveInt } from './jsonChecks.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, type GatewayOptions } from './types.js';
import { validateHttpOptions } from './validateHttpOptions.js';

const GATEWAY_FIELDS = [
  'logLevel',
  'logFile',
  'connectTimeout',
  'startupTimeout',
  'catalogCache',
  'callbackTimeout',
  'tokenStore',
  'maxCallsInFlight',
  'mode',
  'rules',
  'identityProvider',
  'http',
];
const TOKEN_STORES = ['file', 'encrypted', 'keychain', 'memory'];
const LOG_LEVELS = ['error', 'warn', 'info', 'debug'];

/** The top-level `gateway` block: the gateway's own options, relative paths resolved against the config file. */
export function validateGatewayOptions(
  raw: unknown,
  file: string,
  warnings: string[],
  env: NodeJS.ProcessEnv = process.env,
): GatewayOptions {
  const options: GatewayOptions = { connectTimeout: DEFAULT_CONNECT_TIMEOUT_MS };
  if (raw === undefined) return options;
  const at = `${file}: gateway`;
  const block = expectObject(raw, at, 'must be an object of gateway options');
  for (const key of Object.keys(block)) {
    if (!GATEWAY_FIELDS.includes(key)) warnings.push(`${at}.${key}: unknown field, ignored`);
  }
  if (block.logLevel !== undefined) {
    const level = expectString(block.logLevel, `${at}.logLevel`);
    if (!LOG_LEVELS.includes(level)) throw new ConfigError(`${at}.logLevel: must be one of ${LOG_LEVELS.join(', ')}`);
    options.logLevel = level as GatewayOptions['logLevel'];
  }
  if (block.logFile !== undefined) {
    const path = expectString(block.logFile, `${at}.logFile`);
    options.logFile = isAbsolute(path) ? path : resolve(dirname(file), path);
  }
  options.connectTimeout = optionalPositiveInt(block.connectTimeout, `${at}.connectTimeout`, 'milliseconds') ?? options.connectTimeout;
  options.startupTimeout = optionalPositiveInt(block.startupTimeout, `${at}.startupTimeout`, 'milliseconds');
  if (block.catalogCache !== undefined) {
    if (typeof block.catalogCache !== 'boolean') throw new ConfigError(`${at}.catalogCache: must be true or false`);
    options.catalogCache = block.catalogCache;
  }
  options.callbackTimeout = optionalPositiveInt(block.callbackTimeout, `${at}.callbackTimeout`, 'milliseconds');
  options.maxCallsInFlight = optionalPositiveInt(block.maxCallsInFlight, `${at}.maxCallsInFlight`, 'calls');
  if (block.mode !== undefined) {
    const mode = expectString(block.mode, `${at}.mode`);
    if (mode !== 'aggregate' && mode !== 'meta') throw new ConfigError(`${at}.mode: must be "aggregate" or "meta" (got "${mode}")`);
    options.mode = mode;
  }
  if (block.rules !== undefined) {
    const path = expectString(block.rules, `${at}.rules`);
    options.rules = isAbsolute(path) ? path : resolve(dirname(file), path);
  }
  if (block.tokenStore !== undefined) {
    const mode = expectString(block.tokenStore, `${at}.tokenStore`);
    if (!TOKEN_STORES.includes(mode)) throw new ConfigError(`${at}.tokenStore: must be one of ${TOKEN_STORES.join(', ')} (got "${mode}")`);
    options.tokenStore = mode as GatewayOptions['tokenStore'];
  }
  if (block.http !== undefined) options.http = validateHttpOptions(block.http, `${at}.http`, warnings, env);
  return options;
}
