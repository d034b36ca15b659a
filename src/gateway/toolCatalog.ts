import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Downstream } from '../downstream/downstream.js';
import { exposedToolName } from './toolNames.js';

export interface ToolRoute {
  server: Downstream;
  /** The tool's name on its own server. */
  tool: string;
}

/**
 * The aggregate tool list and the routing table behind it. Rebuilt only when a server's
 * state or tools change, so `tools/list` and `tools/call` do no per-request work.
 */
export class ToolCatalog {
  private tools: Tool[] = [];
  private routes = new Map<string, ToolRoute>();

  constructor(private readonly servers: readonly Downstream[]) {}

  rebuild(): void {
    const tools: Tool[] = [];
    const routes = new Map<string, ToolRoute>();
    for (const server of this.servers) {
      if (server.state.status !== 'ready') continue;
      for (const tool of server.tools) {
        const name = exposedToolName(server.name, tool.name);
        tools.push({ ...tool, name });
        routes.set(name, { server, tool: tool.name });
      }
    }
    this.tools = tools;
    this.routes = routes;
  }

  list(): Tool[] {
    return this.tools;
  }

  route(name: string): ToolRoute | undefined {
    return this.routes.get(name);
  }

  /** A signature of the current list, to tell whether it changed. */
  signature(): string {
    return JSON.stringify(this.tools);
  }
}
