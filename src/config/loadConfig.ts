import { readFileSync } from 'node:fs';
import { ConfigError } from '../shared/errors.js';
import { findConfigFile } from './findConfigFile.js';
import { parseJsonWithPosition } from './parseJsonWithPosition.js';
import type { GatewayConfig } from './types.js';
import { validateConfig } from './validateConfig.js';

/** Finds, reads, parses and validates the config file. Throws ConfigError with a message for the user. */
export function loadConfig(explicitPath?: string, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const path = findConfigFile(explicitPath);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`${path}: cannot read config file: ${(error as Error).message}`, { cause: error });
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return validateConfig(parseJsonWithPosition(text, path), path, env);
}
