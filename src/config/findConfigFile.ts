import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigNotFoundError } from '../shared/errors.js';
import { gatewayPaths } from './gatewayPaths.js';

/**
 * Where the config comes from: `--config PATH`, else `./.mcp.json`, else
 * `config.json` in the user's config directory. None there: ConfigNotFoundError.
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
    `no config file found; looked for ${candidates.join(' and ')}. ` + 'Pass one with --config PATH (see mcp.example.json for the format).',
    candidates,
    false,
  );
}
