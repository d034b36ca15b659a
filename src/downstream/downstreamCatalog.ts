import { EventEmitter } from 'node:events';
import type { Implementation, Prompt, Resource, ResourceTemplate, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { ServerConfig } from '../config/types.js';
import { errorMessage, type Logger } from '../log/logger.js';
import type { CatalogCache } from './catalogCache.js';
import type { DownstreamState } from './downstreamState.js';
import type { ServerLists } from './serverLists.js';

/**
 * What one server offers, as the gateway shows it: its lists and what it said of itself.
 * They are the catalog cache's from the start (`fromCache`), the server's own once it
 * answers, and dropped when it fails. The connection lifecycle is the subclass, Downstream.
 */
export class DownstreamCatalog extends EventEmitter<{ changed: [] }> {
  state: DownstreamState;
  tools: Tool[] = [];
  resources: Resource[] = [];
  resourceTemplates: ResourceTemplate[] = [];
  prompts: Prompt[] = [];
  /** What the server said of itself at `initialize` (live, or from the cache). */
  instructions?: string;
  serverInfo?: Implementation;
  /** Set while the lists are the cached ones (when they were saved); cleared once the server answers. */
  cachedAt?: number;
  /** The catalog being saved, which closing waits for (a gateway stopped right after a start still leaves it). */
  protected saving?: Promise<void>;

  constructor(
    readonly config: ServerConfig,
    protected readonly log: Logger,
    private readonly cache?: CatalogCache,
  ) {
    super();
    this.state = config.disabled ? { status: 'disabled' } : { status: 'connecting' };
    const cached = config.disabled ? undefined : cache?.load(config);
    if (cached) {
      this.adoptLists(cached);
      Object.assign(this, { instructions: cached.instructions, serverInfo: cached.serverInfo, cachedAt: cached.savedAt });
    }
  }

  get name(): string {
    return this.config.name;
  }

  /** Whether the lists shown are the cached ones (the server has not answered yet). */
  get fromCache(): boolean {
    return this.cachedAt !== undefined;
  }

  protected adoptLists(lists: ServerLists): void {
    if (lists.tools) this.tools = lists.tools;
    if (lists.resources) this.resources = lists.resources;
    if (lists.resourceTemplates) this.resourceTemplates = lists.resourceTemplates;
    if (lists.prompts) this.prompts = lists.prompts;
  }

  /** What the server answered at `initialize`: its lists and words replace the cached ones. */
  protected adoptLive(live: Required<ServerLists> & { instructions?: string; serverInfo?: Implementation }): void {
    this.adoptLists(live);
    Object.assign(this, { instructions: live.instructions, serverInfo: live.serverInfo, cachedAt: undefined });
  }

  protected dropLists(): void {
    this.adoptLists({ tools: [], resources: [], resourceTemplates: [], prompts: [] });
    this.cachedAt = undefined;
  }

  /** The live catalog, kept for the next start (rewritten only when it changed). */
  protected saveCatalog(): Promise<void> {
    const save = (this.saving ?? Promise.resolve()).then(() => this.saveNow());
    this.saving = save;
    void save.finally(() => {
      if (this.saving === save) this.saving = undefined;
    });
    return save;
  }

  private async saveNow(): Promise<void> {
    if (!this.cache || this.state.status !== 'ready') return;
    const { tools, prompts, resources, resourceTemplates, instructions, serverInfo } = this;
    try {
      if (await this.cache.save(this.config, { tools, prompts, resources, resourceTemplates, instructions, serverInfo }))
        this.log.debug('catalog cache updated');
    } catch (error) {
      this.log.warn(`could not save the catalog cache (${errorMessage(error)}); the next start waits for this server`);
    }
  }

  protected setState(state: DownstreamState): void {
    this.state = state;
    this.emit('changed');
  }
}
