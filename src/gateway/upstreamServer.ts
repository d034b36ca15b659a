import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { protocolSetRequestHandler } from '../shared/sdkInternals.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
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
} from '@modelcontextprotocol/sdk/types.js';
import type { DownstreamHooks } from '../downstream/downstream.js';
import type { DownstreamSet } from '../downstream/downstreamSet.js';
import type { Logger } from '../log/logger.js';
import { CallRelay } from './callRelay.js';
import type { LinePieces } from '../shared/rawText.js';
import { forwardClientRequests } from './clientRequests.js';
import { forwardRequest } from './forwardRequest.js';
import { GATEWAY_URI_SCHEME, ResourceCatalog } from './resourceCatalog.js';
import { PromptCatalog, ToolCatalog } from './toolCatalog.js';
import { META_TOOLS, MetaTools } from './meta/metaTools.js';
import { passServerNotification } from './serverNotifications.js';
import { callToolSlowly, type ToolCallContext } from './toolCallFallback.js';
import type { StartupGate } from './startupGate.js';
import { ListNotices, type ListKind } from './listNotices.js';
import { ClientSettings } from './clientSettings.js';
import { CAPABILITIES, ForwardedCallToolRequestSchema, RpcError, SERVER_INFO, STATUS_TOOL, STATUS_TOOL_NAME } from './upstreamProtocol.js';

export { SERVER_INFO, STATUS_TOOL_NAME } from './upstreamProtocol.js';

import { AccessRules } from './rules/accessRules.js';

export interface UpstreamOptions {
  maxCallsInFlight?: number;
  /** `aggregate` (default) or `meta`. */
  mode?: 'aggregate' | 'meta';
  /** The agent this whole process serves (`--agent`, MCP_GATEWAY_AGENT). */
  agent?: string;
  /** The access rules in force (read on every check, so a reload applies at once). */
  rules?: () => AccessRules;
  /** Holds the first lists until the servers have settled (absent: lists answer at once). */
  startup?: StartupGate;
  /** The gateway's `instructions` for its `initialize` result. */
  instructions?: string;
}

/**
 * The one MCP server the client talks to: every ready downstream's tools, prompts and
 * resources, namespaced, each request routed to its owner, and the servers' own requests
 * (sampling, elicitation, roots) and notifications passed back to the client.
 */
export class UpstreamServer {
  readonly server: Server;
  private readonly tools: ToolCatalog;
  private readonly prompts: PromptCatalog;
  private readonly resources: ResourceCatalog;
  private readonly notices: ListNotices;
  private initialized = false;
  private relay?: CallRelay;
  private onInitialized?: () => void;
  /** The client's logging/setLevel, applied to every server as it (re)connects. */
  private readonly settings: ClientSettings;
  private readonly meta?: MetaTools;
  private readonly rules: () => AccessRules;
  private readonly callContext: ToolCallContext;

  constructor(
    private readonly downstreams: DownstreamSet,
    private readonly log: Logger,
    private readonly options: UpstreamOptions = {},
  ) {
    this.settings = new ClientSettings(log);
    const allowAll = AccessRules.allowAll();
    this.rules = options.rules ?? (() => allowAll);
    this.tools = new ToolCatalog(downstreams.servers, (server, tool) => this.rules().allowsTool(options.agent, server, tool));
    if (options.mode === 'meta')
      this.meta = new MetaTools(downstreams.servers, this.rules, options.agent, options.maxCallsInFlight, options.startup);
    // Prompts and resources follow the rules' server visibility (for requests with no agent: the defaults).
    const visible = (server: string) => this.rules().allowsWholeServer(options.agent, server);
    this.prompts = new PromptCatalog(downstreams.servers, visible);
    this.resources = new ResourceCatalog(downstreams.servers, visible);
    this.callContext = { tools: this.tools, downstreams, allowsServer: (server) => this.rules().allowsServer(options.agent, server) };
    this.server = new Server(SERVER_INFO, {
      capabilities: CAPABILITIES,
      ...(options.instructions ? { instructions: options.instructions } : {}),
    });
    const server = this.server;
    const notify = {
      tools: () => server.sendToolListChanged(),
      resources: () => server.sendResourceListChanged(),
      prompts: () => server.sendPromptListChanged(),
    };
    // In meta mode the tool list is fixed; what changes is what its tools find.
    this.notices = new ListNotices(
      { tools: this.tools, resources: this.resources, prompts: this.prompts },
      (kind) => notify[kind](),
      log,
      new Set(this.meta ? ['tools'] : []),
    );
    this.server.oninitialized = () => {
      this.initialized = true;
      this.onInitialized?.();
      this.notices.initialized();
    };
    this.registerHandlers();
    downstreams.on('changed', () => this.onDownstreamsChanged());
    downstreams.on('removed', (server) => this.relay?.serverGone(server, 'the server was removed from the config'));
    downstreams.runtime.hooks = this.hooks();
    this.onDownstreamsChanged();
  }

  /** A list as it is now, once the first lists may be answered; the client has then seen it. */
  private async answerList<T>(kind: ListKind, build: () => T): Promise<T> {
    await this.options.startup?.ready();
    this.notices.listed(kind);
    return build();
  }

  private registerHandlers(): void {
    const server = this.server;
    server.setRequestHandler(ListToolsRequestSchema, () =>
      this.meta
        ? { tools: META_TOOLS }
        : this.answerList('tools', () => ({
            tools: this.tools.route(STATUS_TOOL_NAME) ? this.tools.list() : [...this.tools.list(), STATUS_TOOL],
          })),
    );
    // Protocol's own registration: the SDK Server's override would validate every result
    // against CallToolResultSchema, which the client at the other end does anyway.
    protocolSetRequestHandler.call(server, ForwardedCallToolRequestSchema, (request, extra) => {
      const params = request.params as { name?: unknown; arguments?: Record<string, unknown> } | undefined;
      if (this.meta && typeof params?.name === 'string') {
        if (!this.meta.has(params.name))
          throw new RpcError(
            ErrorCode.InvalidParams,
            `Unknown tool: ${params.name} (this gateway runs in meta mode: use ${META_TOOLS.map((t) => t.name).join(', ')})`,
          );
        return this.meta.call(params.name, params.arguments ?? {}, extra);
      }
      return callToolSlowly(this.callContext, request.params, extra);
    });

    server.setRequestHandler(ListPromptsRequestSchema, () => this.answerList('prompts', () => ({ prompts: this.prompts.list() })));
    server.setRequestHandler(GetPromptRequestSchema, (request, extra) => {
      const route = this.prompts.route(request.params.name);
      if (!route) throw new RpcError(ErrorCode.InvalidParams, `Unknown prompt: ${request.params.name}`);
      return forwardRequest(route.server, { method: 'prompts/get', params: { ...request.params, name: route.tool } }, extra) as never;
    });

    server.setRequestHandler(ListResourcesRequestSchema, () => this.answerList('resources', () => ({ resources: this.resources.list() })));
    server.setRequestHandler(ListResourceTemplatesRequestSchema, () =>
      this.answerList('resources', () => ({ resourceTemplates: this.resources.listTemplates() })),
    );
    server.setRequestHandler(ReadResourceRequestSchema, async (request, extra) => {
      const uri = request.params.uri;
      const route = this.routeResource(uri);
      const result = (await forwardRequest(
        route.server,
        { method: 'resources/read', params: { ...request.params, uri: route.uri } },
        extra,
      )) as {
        contents?: Array<{ uri: string }>;
      };
      // Contents name the URI the client asked for when the gateway renamed it.
      if (uri !== route.uri && Array.isArray(result.contents)) {
        result.contents = result.contents.map((content) => (content.uri === route.uri ? { ...content, uri } : content));
      }
      return result as never;
    });
    server.setRequestHandler(SubscribeRequestSchema, async (request, extra) => {
      const route = this.routeResource(request.params.uri);
      await forwardRequest(route.server, { method: 'resources/subscribe', params: { ...request.params, uri: route.uri } }, extra);
      this.settings.subscribed(request.params.uri, route);
      return {};
    });
    server.setRequestHandler(UnsubscribeRequestSchema, async (request, extra) => {
      const route = this.routeResource(request.params.uri);
      this.settings.unsubscribed(request.params.uri);
      await forwardRequest(route.server, { method: 'resources/unsubscribe', params: { ...request.params, uri: route.uri } }, extra);
      return {};
    });

    server.setRequestHandler(CompleteRequestSchema, (request, extra) => {
      const ref = request.params.ref as { type: string; name?: string; uri?: string };
      if (ref.type === 'ref/prompt') {
        const route = this.prompts.route(ref.name ?? '');
        if (!route) throw new RpcError(ErrorCode.InvalidParams, `Unknown prompt: ${ref.name}`);
        return forwardRequest(
          route.server,
          { method: 'completion/complete', params: { ...request.params, ref: { ...ref, name: route.tool } } },
          extra,
        ) as never;
      }
      const owner = this.resources.routeTemplate(ref.uri ?? '') ?? this.resources.route(ref.uri ?? '')?.server;
      if (!owner) throw new RpcError(ErrorCode.InvalidParams, `Unknown resource template: ${ref.uri}`);
      return forwardRequest(owner, { method: 'completion/complete', params: request.params }, extra) as never;
    });

    server.setRequestHandler(SetLevelRequestSchema, async (request) => {
      await this.settings.setLogLevel(request.params.level, this.downstreams.servers);
      return {};
    });
    server.setNotificationHandler(RootsListChangedNotificationSchema, async () => {
      for (const downstream of this.downstreams.servers) {
        if (downstream.state.status === 'ready') await downstream.notify({ method: 'notifications/roots/list_changed' });
      }
    });
  }

  /** How every downstream is wired to the client side: its requests, notifications, reconnects and relayed answers. */
  private hooks(): DownstreamHooks {
    return {
      clientSetup: (downstream, client, declared) =>
        forwardClientRequests(client, declared, this.server, downstream.name, this.log, () =>
          this.rules().allowsWholeServer(this.options.agent, downstream.name),
        ),
      // A server the agent may not use whole does not reach the client, not even by notification.
      onNotification: (downstream, notification) => {
        if (this.rules().allowsWholeServer(this.options.agent, downstream.name))
          passServerNotification(this.server, this.resources, this.log, downstream, notification);
      },
      onReady: (downstream) => void this.settings.restore(downstream),
      intercept: (downstream, message) => this.relay?.fromServer(downstream, message) ?? false,
      interceptRawLine: (downstream, line) => this.relay?.fromServerRawLine(downstream, line) ?? false,
    };
  }

  private routeResource(uri: string) {
    const route = this.resources.route(uri);
    if (!route) {
      throw new RpcError(
        ErrorCode.InvalidParams,
        uri.startsWith(GATEWAY_URI_SCHEME) ? `Unknown resource: ${uri} (no such server)` : `Unknown resource: ${uri}`,
      );
    }
    return route;
  }

  /** Resolves when the client has finished `initialize`, or after `ms` without one. */
  initializedOrAfter(ms: number): Promise<void> {
    if (this.initialized) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.onInitialized = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** `writeRawLine`: how to put a line on the client's stream as it is, when it is one. */
  async connect(transport: Transport, writeRawLine?: (line: string | LinePieces) => void): Promise<void> {
    await this.server.connect(transport);
    // In meta mode every call goes through execute_tool: the relay takes none.
    const route = this.meta ? () => undefined : (name: string) => this.tools.route(name);
    const relay = new CallRelay(transport, route, this.log, writeRawLine, this.options.maxCallsInFlight);
    this.relay = relay;
    const protocolOnMessage = transport.onmessage;
    transport.onmessage = (message, extra) => {
      if (!relay.fromClient(message)) protocolOnMessage?.(message, extra);
    };
  }

  /** The access rules changed: lists are rebuilt against them, and the client told. */
  rulesChanged(): void {
    this.meta?.invalidate();
    this.settings.forgetUnless((server) => this.rules().allowsWholeServer(this.options.agent, server));
    this.onDownstreamsChanged();
  }

  private onDownstreamsChanged(): void {
    for (const server of this.downstreams.servers) if (server.state.status !== 'ready') this.relay?.serverGone(server);
    this.meta?.invalidate();
    this.notices.rebuild();
  }

  async close(): Promise<void> {
    this.notices.close();
    await this.server.close();
  }
}
