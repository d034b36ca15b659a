import { createHash } from 'node:crypto';

/**
 * The canonical form of an MCP server URL, the key its logins are stored under: scheme and
 * host lower-cased, default port and fragment dropped, path and query kept. Two servers on
 * one host with different paths get different keys, so they never share tokens.
 */
export function canonicalServerUrl(url: string | URL): string {
  const parsed = new URL(url);
  parsed.hash = '';
  return parsed.href;
}

/** A directory-name-safe key for a server URL. */
export function serverKey(url: string | URL): string {
  return createHash('sha256').update(canonicalServerUrl(url)).digest('hex').slice(0, 32);
}
