import type { Prompt, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Downstream } from '../downstream/downstream.js';
import { compileToolFilter } from './toolFilter.js';
import { exposedToolName } from './toolNames.js';

/** How an item of a server is named for the client. */
export type ItemNaming = (server: string, name: string) => string;

/** A bridged server's own names, unprefixed. */
export const ownNames: ItemNaming = (_server, name) => name;

export interface ToolRoute {
  server: Downstream;
  /** The tool's (or prompt's) name on its own server. */
  tool: string;
}

/**
 * Servers whose lists are offered: ready ones, those reconnecting, and those shown from the
 * catalog cache while they start or wait for a login (calls to them wait for them).
 */
export function isListed(server: Downstream): boolean {
  const status = server.state.status;
  return status === 'ready' || status === 'reconnecting' || (server.fromCache && (status === 'connecting' || status === 'needs-auth'));
}

/**
 * An aggregate of named items (tools, prompts) exposed as `<server>__<name>`, and the
 * routing table behind it. Rebuilt only when a server's state or lists change, so a list or
 * a call does no per-request work.
 */
class NamespacedCatalog<T extends { name: string }> {
  private items: T[] = [];
  private routes = new Map<string, ToolRoute>();
  private signed?: string;

  constructor(
    private readonly servers: readonly Downstream[],
    private readonly pick: (server: Downstream) => T[],
    private readonly exposed: (server: Downstream) => (name: string) => boolean = () => () => true,
    /** The name the client sees: `<server>__<name>`, or the server's own (one server, bridged). */
    private readonly naming: ItemNaming = exposedToolName,
  ) {}

  rebuild(): void {
    const items: T[] = [];
    const routes = new Map<string, ToolRoute>();
    for (const server of this.servers) {
      if (!isListed(server)) continue;
      const allowed = this.exposed(server);
      for (const item of this.pick(server)) {
        if (!allowed(item.name)) continue;
        const name = this.naming(server.name, item.name);
        items.push(name === item.name ? item : { ...item, name });
        routes.set(name, { server, tool: item.name });
      }
    }
    this.items = items;
    this.routes = routes;
    this.signed = undefined;
  }

  list(): T[] {
    return this.items;
  }

  route(name: string): ToolRoute | undefined {
    return this.routes.get(name);
  }

  /** A signature of the current list, to tell whether it changed. */
  signature(): string {
    return (this.signed ??= JSON.stringify(this.items));
  }
}

/**
 * Tools, filtered per server by its `tools` allow/deny lists and by `allowed` (the access
 * rules for this process's agent): a filtered tool is neither listed nor callable.
 */
export class ToolCatalog extends NamespacedCatalog<Tool> {
  constructor(servers: readonly Downstream[], allowed: (server: string, tool: string) => boolean = () => true, naming?: ItemNaming) {
    super(
      servers,
      (server) => server.tools,
      (server) => {
        const configured = compileToolFilter(server.config.tools);
        return (name) => configured(name) && allowed(server.name, name);
      },
      naming,
    );
  }
}

/** Prompts of the servers `visible` lets the agent see. */
export class PromptCatalog extends NamespacedCatalog<Prompt> {
  constructor(servers: readonly Downstream[], visible: (server: string) => boolean = () => true, naming?: ItemNaming) {
    super(
      servers,
      (server) => server.prompts,
      (server) => {
        const shown = visible(server.name);
        return () => shown;
      },
      naming,
    );
  }
}
