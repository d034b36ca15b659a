import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CompleteRequestSchema,
  ErrorCode,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  ReadResourceRequestSchema,
  RootsListChangedNotificationSchema,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  type ServerCapabilities,
} from '@modelcontextprotocol/sdk/types.js';
import { protocolSetRequestHandler } from '../shared/sdkInternals.js';
import type { ClientSettingsView } from './clientSettings.js';
import type { forwardRequest, HandlerExtra } from './forwardRequest.js';
import type { GatewayCatalogs } from './gatewayCatalogs.js';
import type { ListKind } from './listNotices.js';
import { META_TOOLS } from './meta/metaTools.js';
import { GATEWAY_URI_SCHEME } from './resourceCatalog.js';
import { callToolSlowly } from './toolCallFallback.js';
import { ForwardedCallToolRequestSchema, RpcError, STATUS_TOOL, STATUS_TOOL_NAME } from './upstreamProtocol.js';

/** What the request handlers of one client's server read. */
export interface HandlerContext {
  catalogs: GatewayCatalogs;
  /** This client's log level and subscriptions. */
  settings: ClientSettingsView;
  /** What this server advertised: a handler for what it did not is not registered (the SDK then answers -32601). */
  capabilities: ServerCapabilities;
  /** A list as it is now, once the first lists may be answered; the client has then seen it. */
  answerList<T>(kind: ListKind, build: () => T): Promise<T>;
  /** forwardRequest, counted among this client's requests in flight (a server's request of its own may belong to one). */
  forward: typeof forwardRequest;
}

/**
 * The requests a client may send the gateway, each routed to the server that owns what it
 * names. tools/call comes here only when the per-call relay did not take it.
 */
export function registerHandlers(server: Server, context: HandlerContext): void {
  const { capabilities } = context;
  if (capabilities.tools) registerTools(server, context);
  if (capabilities.prompts) registerPrompts(server, context);
  if (capabilities.resources) registerResources(server, context);
  if (capabilities.completions) registerCompletions(server, context);
  if (capabilities.logging) {
    server.setRequestHandler(SetLevelRequestSchema, async (request) => {
      await context.settings.setLogLevel(request.params.level, context.catalogs.downstreams.servers);
      return {};
    });
  }
  server.setNotificationHandler(RootsListChangedNotificationSchema, async () => {
    for (const downstream of context.catalogs.downstreams.servers) {
      if (downstream.state.status === 'ready') await downstream.notify({ method: 'notifications/roots/list_changed' });
    }
  });
}

function registerTools(server: Server, { catalogs, answerList, forward }: HandlerContext): void {
  const { tools, meta } = catalogs;
  // The gateway's own status tool, unless a server of that name offers one (and never on a bridge).
  const withStatus = () => (tools.route(STATUS_TOOL_NAME) || catalogs.options.bridge ? tools.list() : [...tools.list(), STATUS_TOOL]);
  server.setRequestHandler(ListToolsRequestSchema, () =>
    meta ? { tools: META_TOOLS } : answerList('tools', () => ({ tools: withStatus() })),
  );
  // Protocol's own registration: the SDK Server's override would validate every result
  // against CallToolResultSchema, which the client at the other end does anyway.
  protocolSetRequestHandler.call(server, ForwardedCallToolRequestSchema, (request, extra) => {
    const params = request.params as { name?: unknown; arguments?: Record<string, unknown> } | undefined;
    if (meta && typeof params?.name === 'string') {
      if (!meta.has(params.name))
        throw new RpcError(
          ErrorCode.InvalidParams,
          `Unknown tool: ${params.name} (this gateway runs in meta mode: use ${META_TOOLS.map((t) => t.name).join(', ')})`,
        );
      return meta.call(params.name, params.arguments ?? {}, extra);
    }
    return callToolSlowly(catalogs.callContext, request.params, extra, forward);
  });
}

function registerPrompts(server: Server, { catalogs, answerList, forward }: HandlerContext): void {
  server.setRequestHandler(ListPromptsRequestSchema, () => answerList('prompts', () => ({ prompts: catalogs.prompts.list() })));
  server.setRequestHandler(GetPromptRequestSchema, (request, extra) => {
    const route = catalogs.prompts.route(request.params.name);
    if (!route) throw new RpcError(ErrorCode.InvalidParams, `Unknown prompt: ${request.params.name}`);
    return forward(route.server, { method: 'prompts/get', params: { ...request.params, name: route.tool } }, extra) as never;
  });
}

function registerResources(server: Server, { catalogs, answerList, settings, capabilities, forward }: HandlerContext): void {
  const { resources } = catalogs;
  const routeResource = (uri: string) => {
    const route = resources.route(uri);
    if (route) return route;
    throw new RpcError(
      ErrorCode.InvalidParams,
      uri.startsWith(GATEWAY_URI_SCHEME) ? `Unknown resource: ${uri} (no such server)` : `Unknown resource: ${uri}`,
    );
  };
  server.setRequestHandler(ListResourcesRequestSchema, () => answerList('resources', () => ({ resources: resources.list() })));
  server.setRequestHandler(ListResourceTemplatesRequestSchema, () =>
    answerList('resources', () => ({ resourceTemplates: resources.listTemplates() })),
  );
  server.setRequestHandler(ReadResourceRequestSchema, async (request, extra) => {
    const uri = request.params.uri;
    const route = routeResource(uri);
    const params = { ...request.params, uri: route.uri };
    const result = (await forward(route.server, { method: 'resources/read', params }, extra)) as {
      contents?: Array<{ uri: string }>;
    };
    // Contents name the URI the client asked for when the gateway renamed it.
    if (uri !== route.uri && Array.isArray(result.contents)) {
      result.contents = result.contents.map((content) => (content.uri === route.uri ? { ...content, uri } : content));
    }
    return result as never;
  });
  if (!capabilities.resources?.subscribe) return;
  server.setRequestHandler(SubscribeRequestSchema, async (request, extra: HandlerExtra) => {
    const route = routeResource(request.params.uri);
    await forward(route.server, { method: 'resources/subscribe', params: { ...request.params, uri: route.uri } }, extra);
    settings.subscribed(request.params.uri, route);
    return {};
  });
  server.setRequestHandler(UnsubscribeRequestSchema, async (request, extra: HandlerExtra) => {
    const route = routeResource(request.params.uri);
    // Another client of this gateway may still be subscribed to the same server's URI.
    if (settings.unsubscribed(request.params.uri))
      await forward(route.server, { method: 'resources/unsubscribe', params: { ...request.params, uri: route.uri } }, extra);
    return {};
  });
}

function registerCompletions(server: Server, { catalogs, forward }: HandlerContext): void {
  server.setRequestHandler(CompleteRequestSchema, (request, extra) => {
    const ref = request.params.ref as { type: string; name?: string; uri?: string };
    if (ref.type === 'ref/prompt') {
      const route = catalogs.prompts.route(ref.name ?? '');
      if (!route) throw new RpcError(ErrorCode.InvalidParams, `Unknown prompt: ${ref.name}`);
      const params = { ...request.params, ref: { ...ref, name: route.tool } };
      return forward(route.server, { method: 'completion/complete', params }, extra) as never;
    }
    const owner = catalogs.resources.routeTemplate(ref.uri ?? '') ?? catalogs.resources.route(ref.uri ?? '')?.server;
    if (!owner) throw new RpcError(ErrorCode.InvalidParams, `Unknown resource template: ${ref.uri}`);
    return forward(owner, { method: 'completion/complete', params: request.params }, extra) as never;
  });
}
