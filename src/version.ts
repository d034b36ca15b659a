import { readFileSync } from 'node:fs';

/**
 * The package's version, read from its package.json (found from this module's location,
 * whether it runs from dist/cli/ or from the bundle in dist/bundle/ and its chunks).
 */
export const VERSION = readVersion();

function readVersion(): string {
  for (const relative of ['../package.json', '../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'mcp-oauth-gateway' && pkg.version) return pkg.version;
    } catch {
      // Try the next place.
    }
  }
  return '0.0.0';
}
