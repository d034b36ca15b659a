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
