import { ErrorCode, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Downstream } from '../downstream/downstream.js';
import type { DownstreamSet } from '../downstream/downstreamSet.js';
import { awaitServer } from './awaitServer.js';
import { forwardRequest, type HandlerExtra } from './forwardRequest.js';
import { serverStatus } from './meta/metaTools.js';
import type { ToolCatalog } from './toolCatalog.js';
import { RpcError, STATUS_TOOL_NAME } from './upstreamProtocol.js';

/** What the slow path of tools/call reads: the catalog, the servers and who may use which. */
export interface ToolCallContext {
  tools: ToolCatalog;
  downstreams: DownstreamSet;
  /** Whether the agent this gateway serves may use the server at all. */
  allowsServer: (server: string) => boolean;
  /** The client sessions of the HTTP front, shown by gateway__status; absent over stdio. */
  sessions?: () => unknown[];
}

/**
 * tools/call as the SDK server sees it: only calls the relay did not take, because the tool
 * is unknown or its server is not ready. A call for a server that is starting, reconnecting
 * or waiting for a login waits for it (also a name not listed yet whose prefix is such a
 * server), then goes through the SDK client; a failed server's call fails as it is.
 */
export async function callToolSlowly(
  context: ToolCallContext,
  params: unknown,
  extra: HandlerExtra,
  forward: typeof forwardRequest = forwardRequest,
): Promise<CallToolResult> {
  const name = (params as { name?: unknown } | undefined)?.name;
  if (typeof name !== 'string') throw new RpcError(ErrorCode.InvalidParams, 'tools/call: "name" must be a string');
  const route = context.tools.route(name);
  if (!route && name === STATUS_TOOL_NAME) return gatewayStatus(context);
  const server = route?.server ?? unsettledOwner(context, name);
  if (!server) throw new RpcError(ErrorCode.InvalidParams, `Unknown tool: ${name}`);
  const notReady = await awaitServer(server, extra);
  const tool = route?.tool ?? name.slice(server.name.length + 2);
  if (notReady)
    return { isError: true, content: [{ type: 'text', text: `Server "${server.name}" could not complete ${tool}: ${notReady}` }] };
  const live = context.tools.route(name);
  if (!live || live.server !== server) throw new RpcError(ErrorCode.InvalidParams, `Unknown tool: ${name}`);
  const request = { method: 'tools/call', params: { ...(params as Record<string, unknown>), name: live.tool } };
  return (await forward(server, request, extra)) as CallToolResult;
}

/** The server a `<server>__<tool>` name belongs to when that server may still bring the tool (not settled yet). */
function unsettledOwner(context: ToolCallContext, name: string): Downstream | undefined {
  const split = name.indexOf('__');
  const server = split > 0 ? context.downstreams.get(name.slice(0, split)) : undefined;
  if (!server || !['connecting', 'reconnecting', 'needs-auth'].includes(server.state.status)) return undefined;
  return context.allowsServer(server.name) ? server : undefined;
}

/** `gateway__status`: every enabled server the agent may use, with its state and tool count. */
function gatewayStatus({ tools, downstreams, allowsServer, sessions }: ToolCallContext): CallToolResult {
  const servers = downstreams.servers
    .filter((server) => server.state.status !== 'disabled' && allowsServer(server.name))
    .map((server) => serverStatus(server, tools.list().filter((tool) => tools.route(tool.name)?.server === server).length));
  const status = sessions ? { servers, sessions: sessions() } : { servers };
  return { content: [{ type: 'text', text: JSON.stringify(status, null, 2) }], structuredContent: status };
}
