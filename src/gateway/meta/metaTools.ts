import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Downstream } from '../../downstream/downstream.js';
import { describeState } from '../../downstream/downstreamState.js';
import { errorMessage } from '../../log/logger.js';
import type { AccessRules } from '../rules/accessRules.js';
import { forwardOptions } from '../forwardOptions.js';
import { compileToolFilter } from '../toolFilter.js';
import { Bm25Index } from './bm25.js';
import { awaitServer } from '../awaitServer.js';
import type { StartupGate } from '../startupGate.js';
import { isListed } from '../toolCatalog.js';

const AGENT_ID = {
  type: 'string',
  description: 'Your agent id, if the gateway asked you to give one; it decides which servers and tools you may use.',
} as const;

/** Meta mode's whole tool list: a few fixed tools instead of every downstream tool. */
export const META_TOOLS: Tool[] = [
  {
    name: 'list_servers',
    description:
      'List the MCP servers behind this gateway: what each is for, whether it is ready (or needs a login, or failed and why), and how many tools it has. Start here.',
    inputSchema: { type: 'object', properties: { agent_id: AGENT_ID } },
    annotations: { readOnlyHint: true },
  },
  {
    name: 'get_server_tools',
    description: 'The tools of one server with their input schemas. Give `names` to get only those tools, `max` to cap the list.',
    inputSchema: {
      type: 'object',
      properties: {
        server: { type: 'string' },
        names: { type: 'array', items: { type: 'string' } },
        max: { type: 'integer', minimum: 1 },
        agent_id: AGENT_ID,
      },
      required: ['server'],
    },
    annotations: { readOnlyHint: true },
  },
  {
    name: 'search_tools',
    description:
      'Find tools across all servers by what you want to do (ranked by BM25 over tool names and descriptions). Returns the best matches with their schemas.',
    inputSchema: {
      type: 'object',
      properties: { query: { type: 'string' }, max: { type: 'integer', minimum: 1 }, agent_id: AGENT_ID },
      required: ['query'],
    },
    annotations: { readOnlyHint: true },
  },
  {
    name: 'execute_tool',
    description: "Call a tool of a server with its arguments; the server's result is returned unchanged.",
    inputSchema: {
      type: 'object',
      properties: { server: { type: 'string' }, tool: { type: 'string' }, args: { type: 'object' }, agent_id: AGENT_ID },
      required: ['server', 'tool'],
    },
  },
];

type Extra = Parameters<typeof forwardOptions>[0];

const failure = (text: string): CallToolResult => ({ isError: true, content: [{ type: 'text', text }] });
const json = (value: unknown): CallToolResult => ({
  content: [{ type: 'text', text: JSON.stringify(value, null, 2) }],
  structuredContent: value as Record<string, unknown>,
});

/**
 * Progressive disclosure: the model lists servers, searches or browses their tools, and calls
 * one through `execute_tool`. Access rules apply to every step; mistakes come back as tool
 * results that say what to do next.
 */
export class MetaTools {
  private index?: { key: string; index: Bm25Index<{ server: Downstream; tool: Tool }> };
  private version = 0;

  constructor(
    private readonly servers: readonly Downstream[],
    private readonly rules: () => AccessRules,
    /** `--agent` / MCP_GATEWAY_AGENT: binds the whole process; the `agent_id` argument is then ignored. */
    private readonly processAgent?: string,
    /** gateway.maxCallsInFlight: execute_tool counts against it as relayed calls do. */
    private readonly maxInFlight = 256,
    /** The first answers about servers and tools wait, as the first lists do in aggregate mode. */
    private readonly startup?: StartupGate,
  ) {}

  private readonly inFlight = new Map<string, number>();

  /** Lists or rules changed: the search index is rebuilt on next use. */
  invalidate(): void {
    this.version++;
  }

  has(name: string): boolean {
    return META_TOOLS.some((tool) => tool.name === name);
  }

  async call(name: string, args: Record<string, unknown>, extra: Extra): Promise<CallToolResult> {
    const agent = this.processAgent ?? (typeof args.agent_id === 'string' ? args.agent_id : undefined);
    if (name !== 'execute_tool') await this.startup?.ready();
    switch (name) {
      case 'list_servers':
        return this.listServers(agent);
      case 'get_server_tools':
        return this.getServerTools(agent, args);
      case 'search_tools':
        return this.searchTools(agent, args);
      case 'execute_tool':
        return this.executeTool(agent, args, extra);
      default:
        return failure(`Unknown tool ${name}; the tools here are ${META_TOOLS.map((tool) => tool.name).join(', ')}.`);
    }
  }

  private visibleServers(agent: string | undefined): Downstream[] {
    return this.servers.filter((server) => server.state.status !== 'disabled' && this.rules().allowsServer(agent, server.name));
  }

  private visibleTools(agent: string | undefined, server: Downstream): Tool[] {
    const filter = compileToolFilter(server.config.tools);
    return server.tools.filter((tool) => filter(tool.name) && this.rules().allowsTool(agent, server.name, tool.name));
  }

  private listServers(agent: string | undefined): CallToolResult {
    const servers = this.visibleServers(agent).map((server) => serverStatus(server, this.visibleTools(agent, server).length));
    return json({ servers });
  }

  private getServerTools(agent: string | undefined, args: Record<string, unknown>): CallToolResult {
    const lookup = this.findServer(agent, args.server);
    if ('error' in lookup) return lookup.error;
    const found = lookup.server;
    // A server that is not ready may still show its tools (from the catalog cache, or while reconnecting); with none, say why and what to do.
    let tools = isListed(found) ? this.visibleTools(agent, found) : [];
    if (found.state.status !== 'ready' && !tools.length)
      return failure(`${found.name} is not ready: ${describeState(found.state)}. ${whatToDo(found)}`);
    if (Array.isArray(args.names)) {
      const wanted = new Set(args.names.filter((name): name is string => typeof name === 'string'));
      const missing = [...wanted].filter((name) => !tools.some((tool) => tool.name === name));
      tools = tools.filter((tool) => wanted.has(tool.name));
      if (missing.length && !tools.length)
        return failure(
          `${found.name} has no tool ${missing.join(', ')} that you may use; call get_server_tools with only "server" to see them all.`,
        );
    }
    if (typeof args.max === 'number' && args.max > 0) tools = tools.slice(0, args.max);
    return json({ server: found.name, tools: tools.map(({ name, description, inputSchema }) => ({ name, description, inputSchema })) });
  }

  private searchTools(agent: string | undefined, args: Record<string, unknown>): CallToolResult {
    if (typeof args.query !== 'string' || !args.query.trim())
      return failure('search_tools needs a "query": words for what you want to do, e.g. "create a calendar event".');
    const max = typeof args.max === 'number' && args.max > 0 ? args.max : 8;
    const key = `${this.version}:${agent ?? ''}:${this.servers.map((server) => `${server.name}=${server.state.status}/${server.tools.length}`).join(',')}`;
    if (this.index?.key !== key) {
      const documents = this.servers
        .filter((server) => isListed(server) && this.rules().allowsServer(agent, server.name))
        .flatMap((server) =>
          this.visibleTools(agent, server).map((tool) => ({
            item: { server, tool },
            fields: [
              { text: tool.name, weight: 3 },
              { text: tool.title ?? '', weight: 2 },
              { text: tool.description ?? '', weight: 1 },
              { text: server.name, weight: 1 },
            ],
          })),
        );
      this.index = { key, index: new Bm25Index(documents) };
    }
    const results = this.index.index.search(args.query, max).map(({ item, score }) => ({
      server: item.server.name,
      tool: item.tool.name,
      description: item.tool.description,
      inputSchema: item.tool.inputSchema,
      score: Math.round(score * 100) / 100,
    }));
    if (!results.length)
      return json({ results, hint: 'Nothing matched; try other words, or list_servers and get_server_tools to browse.' });
    return json({ results });
  }

  private async executeTool(agent: string | undefined, args: Record<string, unknown>, extra: Extra): Promise<CallToolResult> {
    const lookup = this.findServer(agent, args.server);
    if ('error' in lookup) return lookup.error;
    const found = lookup.server;
    if (typeof args.tool !== 'string') return failure('execute_tool needs "tool": a tool name from get_server_tools or search_tools.');
    if (!this.rules().allowsTool(agent, found.name, args.tool)) {
      return failure(
        `You may not use ${found.name}.${args.tool}${agent ? ` (agent "${agent}")` : ''}; the gateway's access rules deny it. Use search_tools to find a tool you may use.`,
      );
    }
    const notReady = await awaitServer(found, extra);
    if (notReady) return failure(`${found.name} is not ready: ${describeState(found.state)}. ${whatToDo(found)}`);
    if (!this.visibleTools(agent, found).some((tool) => tool.name === args.tool)) {
      return failure(`${found.name} has no tool "${args.tool}"; call get_server_tools with {"server": "${found.name}"} to see its tools.`);
    }
    const toolArgs = args.args === undefined ? {} : args.args;
    if (typeof toolArgs !== 'object' || toolArgs === null || Array.isArray(toolArgs))
      return failure('"args" must be an object of the tool\'s arguments.');
    const busy = this.inFlight.get(found.name) ?? 0;
    if (busy >= this.maxInFlight) {
      return failure(
        `${found.name} already has ${busy} calls in flight, the gateway's limit (gateway.maxCallsInFlight); retry when some have finished.`,
      );
    }
    this.inFlight.set(found.name, busy + 1);
    try {
      return (await found.request(
        { method: 'tools/call', params: { name: args.tool, arguments: toolArgs as Record<string, unknown> } },
        forwardOptions(extra, found.config.timeout),
      )) as CallToolResult;
    } catch (error) {
      return failure(`${found.name}.${args.tool} failed: ${errorMessage(error)}`);
    } finally {
      this.inFlight.set(found.name, (this.inFlight.get(found.name) ?? 1) - 1);
    }
  }

  private findServer(agent: string | undefined, name: unknown): { server: Downstream } | { error: CallToolResult } {
    const servers = this.visibleServers(agent);
    const server = typeof name === 'string' ? servers.find((candidate) => candidate.name === name) : undefined;
    if (server) return { server };
    const known = servers.map((candidate) => candidate.name).join(', ') || 'none';
    return {
      error: failure(
        typeof name === 'string'
          ? `There is no server "${name}" you may use (servers: ${known}). Call list_servers.`
          : `Give "server": one of ${known}.`,
      ),
    };
  }
}

/** One server as the model should see it: its state, what to do about it, the login URL when one is pending. */
export function serverStatus(server: Downstream, toolCount: number): Record<string, unknown> {
  const state = server.state;
  return {
    name: server.name,
    ...(server.config.description ? { description: server.config.description } : {}),
    state: state.status,
    tool_count: toolCount,
    ...(server.fromCache ? { tools_from_cache: new Date(server.cachedAt!).toISOString() } : {}),
    ...(state.status === 'ready' ? {} : { what_to_do: whatToDo(server) }),
    ...(state.status === 'failed' && state.code ? { error_code: state.code } : {}),
    ...(state.status === 'needs-auth' && state.authorizationUrl ? { login_url: state.authorizationUrl } : {}),
  };
}

export function whatToDo(server: Downstream): string {
  const state = server.state;
  switch (state.status) {
    case 'needs-auth':
      return state.authorizationUrl
        ? `It needs a login: ask the user to open login_url in a browser and approve; its tools appear when that is done.`
        : `It needs a login: ask the user to run \`gateway auth login ${server.name}\`.`;
    case 'connecting':
      return 'It is starting; try again in a few seconds.';
    case 'reconnecting':
      return `It went away and the gateway is reconnecting it (${state.reason}); try again shortly.`;
    case 'failed':
      return `It failed (${state.reason}); the user should check it with \`gateway doctor\`.`;
    default:
      return '';
  }
}
