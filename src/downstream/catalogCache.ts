import { createHash } from 'node:crypto';
import { lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Implementation, Prompt, Resource, ResourceTemplate, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { ServerConfig } from '../config/types.js';
import { writeFileAtomic } from '../shared/atomicFile.js';

/** What a server offers, as the gateway shows it: enough to answer the first lists without the server. */
export interface Catalog {
  tools: Tool[];
  prompts: Prompt[];
  resources: Resource[];
  resourceTemplates: ResourceTemplate[];
  instructions?: string;
  serverInfo?: Implementation;
}

export interface CachedCatalog extends Catalog {
  /** When the server last answered with this catalog (ms since the epoch). */
  savedAt: number;
}

interface CacheFile extends CachedCatalog {
  version: 1;
  server: string;
  /** A hash of the server's whole config entry: an edited entry never gets a stale catalog. */
  configHash: string;
}

/**
 * A hash of a server's config entry. Secrets in `env` and `headers` (and everything else)
 * go into it only hashed; the cache file holds the hash, never the entry.
 */
export function configHash(config: ServerConfig): string {
  return createHash('sha256').update(JSON.stringify(config)).digest('hex');
}

/** The parts of a live catalog the cache keeps, in a stable form for comparing. */
function serialize(catalog: Catalog): string {
  const { tools, prompts, resources, resourceTemplates, instructions, serverInfo } = catalog;
  return JSON.stringify({ tools, prompts, resources, resourceTemplates, instructions, serverInfo });
}

/**
 * Each server's last good catalog, one file per server (`<data>/catalogs/<name>.json`, 0600
 * in a 0700 directory, written atomically), keyed by the server's name and its config hash.
 * A warm start shows these at once; the live catalog replaces them when it arrives.
 */
export class CatalogCache {
  /** What each server's file holds now (serialized), so an unchanged catalog is not rewritten. */
  private readonly written = new Map<string, string>();

  constructor(readonly dir: string) {}

  private path(name: string): string {
    return join(this.dir, `${name}.json`);
  }

  /**
   * The cached catalog for this entry, or undefined (none, another entry's, unreadable).
   * Synchronous: it runs once per server at start, before the gateway answers `initialize`.
   */
  load(config: ServerConfig): CachedCatalog | undefined {
    const path = this.path(config.name);
    try {
      if (!lstatSync(path).isFile()) return undefined; // Never read through a link.
      const text = readFileSync(path, 'utf8');
      const file = JSON.parse(text) as Partial<CacheFile>;
      if (file.version !== 1 || file.server !== config.name || file.configHash !== configHash(config)) return undefined;
      if (
        !Array.isArray(file.tools) ||
        !Array.isArray(file.prompts) ||
        !Array.isArray(file.resources) ||
        !Array.isArray(file.resourceTemplates)
      )
        return undefined;
      const catalog: CachedCatalog = {
        tools: file.tools,
        prompts: file.prompts,
        resources: file.resources,
        resourceTemplates: file.resourceTemplates,
        ...(typeof file.instructions === 'string' ? { instructions: file.instructions } : {}),
        ...(file.serverInfo && typeof file.serverInfo === 'object' ? { serverInfo: file.serverInfo } : {}),
        savedAt: typeof file.savedAt === 'number' ? file.savedAt : 0,
      };
      this.written.set(config.name, serialize(catalog));
      return catalog;
    } catch {
      return undefined;
    }
  }

  /** Saves a live catalog; false when it equals what the file already holds (nothing written). */
  async save(config: ServerConfig, catalog: Catalog): Promise<boolean> {
    const serialized = serialize(catalog);
    if (this.written.get(config.name) === serialized) return false;
    const file: CacheFile = {
      version: 1,
      server: config.name,
      configHash: configHash(config),
      savedAt: Date.now(),
      ...JSON.parse(serialized),
    };
    // Not flushed to disk: a cache torn by a crash is unreadable, so ignored, and rewritten at the next start.
    await writeFileAtomic(this.path(config.name), `${JSON.stringify(file)}\n`, { durable: false });
    this.written.set(config.name, serialized);
    return true;
  }
}
