import { ConfigError } from '../shared/errors.js';

/**
 * The checks every part of the config is read with: each names the field it checks (`at`)
 * and says what was expected and what was found.
 */

export function checkUrl(value: string, at: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${at}: not a valid URL: "${value}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`${at}: must be an http:// or https:// URL, not ${url.protocol}`);
  }
}

export type JsonObject = Record<string, unknown>;

export function expectObject(value: unknown, at: string, what: string): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError(`${at}: ${what}`);
  return value as JsonObject;
}

export function expectString(value: unknown, at: string): string {
  if (typeof value !== 'string') throw new ConfigError(`${at}: must be a string, not ${describe(value)}`);
  return value;
}

export function expectStringArray(value: unknown, at: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new ConfigError(`${at}: must be an array of strings, not ${describe(value)}`);
  return value.map((item, i) => {
    if (typeof item !== 'string') throw new ConfigError(`${at}[${i}]: must be a string, not ${describe(item)}`);
    return item;
  });
}

export function expectStringMap(value: unknown, at: string, map: (key: string, value: string) => string): Record<string, string> {
  if (value === undefined) return {};
  const block = expectObject(value, at, `must be an object of string values, not ${describe(value)}`);
  const out: Record<string, string> = {};
  for (const [key, item] of Object.entries(block)) {
    if (typeof item !== 'string') throw new ConfigError(`${at}.${key}: must be a string, not ${describe(item)}`);
    out[key] = map(key, item);
  }
  return out;
}

export function optionalBoolean(value: unknown, at: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw new ConfigError(`${at}: must be true or false, not ${describe(value)}`);
  return value;
}

export function optionalPositiveInt(value: unknown, at: string, unit: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new ConfigError(`${at}: must be a positive whole number (${unit}), not ${describe(value)}`);
  }
  return value;
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string "${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

/** `[HOST:]PORT` (HOST a name, an IPv4 address or an IPv6 one in brackets; 127.0.0.1 when left out); undefined when it is not one. */
export function parseListenAddress(text: string): { host: string; port: number } | undefined {
  const match = /^(?:(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):)?(\d{1,5})$/.exec(text.trim());
  const port = match ? Number(match[2]) : NaN;
  if (!match || port > 65535) return undefined;
  return { host: match[1]?.replace(/^\[|\]$/g, '') ?? '127.0.0.1', port };
}

/** A listen address: `[HOST:]PORT` as a string, or a port number. */
export function expectListenAddress(value: unknown, at: string): { host: string; port: number } {
  const text = typeof value === 'number' && Number.isInteger(value) ? String(value) : expectString(value, at);
  const address = parseListenAddress(text);
  if (!address) throw new ConfigError(`${at}: must be [HOST:]PORT, e.g. 8808 or 127.0.0.1:8808 or [::1]:8808 (got ${describe(value)})`);
  return address;
}

/** An origin as browsers send it: `scheme://host[:port]`, nothing after. */
export function expectOrigin(value: unknown, at: string): string {
  const text = expectString(value, at);
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (!url || !['http:', 'https:'].includes(url.protocol) || url.origin !== text.replace(/\/$/, '').toLowerCase())
    throw new ConfigError(`${at}: must be an origin such as https://app.example.com or http://localhost:6274 (got ${describe(value)})`);
  return url.origin;
}
