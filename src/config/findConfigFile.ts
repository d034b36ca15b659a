import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from './configError.js';
import { gatewayPaths } from './gatewayPaths.js';

/** No config file where one was looked for: `candidates` are the paths tried. */
export class ConfigNotFoundError extends ConfigError {
  constructor(
    message: string,
    readonly candidates: string[],
    readonly explicit: boolean,
  ) {
    super(message);
  }
}

/**
 * Where the config comes from: `--config PATH`, else `./.mcp.json`, else
 * `config.json` in the user's config directory.
 */
export function findConfigFile(explicit?: string, cwd = process.cwd()): string {
  if (explicit) {
    const path = resolve(cwd, explicit);
    if (!existsSync(path)) throw new ConfigNotFoundError(`${path}: config file not found (given with --config)`, [path], true);
    return path;
  }
  const candidates = [join(cwd, '.mcp.json'), join(gatewayPaths().config, 'config.json')];
  const found = candidates.find((path) => existsSync(path));
  if (found) return found;
  throw new ConfigNotFoundError(
    `no config file found; looked for ${candidates.join(' and ')}. ` +
      'Pass one with --config PATH (see mcp.example.json for the format).',
    candidates,
    false,
  );
}
