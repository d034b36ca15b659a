import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { Protocol } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CompleteRequestSchema,
  ErrorCode,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  RootsListChangedNotificationSchema,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  type CallToolResult,
  type LoggingLevel,
  type Notification,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { Downstream } from '../downstream/downstream.js';
import type { DownstreamSet } from '../downstream/downstreamSet.js';
import { errorMessage, type Logger } from '../log/logger.js';
import { VERSION } from '../version.js';
import { CallRelay } from './callRelay.js';
import { forwardClientRequests } from './clientRequests.js';
import { forwardOptions } from './forwardOptions.js';
import { GATEWAY_URI_SCHEME, ResourceCatalog } from './resourceCatalog.js';
import { PromptCatalog, ToolCatalog } from './toolCatalog.js';
import { META_TOOLS, MetaTools, serverStatus } from './meta/metaTools.js';
import { awaitServer } from './awaitServer.js';
import type { StartupGate } from './startupGate.js';

/** Aggregate mode's one tool of its own: who is ready, who needs a login (with the URL), who failed and why. */
export const STATUS_TOOL_NAME = 'gateway__status';
const STATUS_TOOL = {
  name: STATUS_TOOL_NAME,
  description: "The gateway's servers: which are ready, which need the user to log in (with the login URL) and which failed and why, with what to do about each.",
  inputSchema: { type: 'object' as const, properties: {} },
  annotations: { readOnlyHint: true },
};
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

export const SERVER_INFO = { name: 'mcp-oauth-gateway', version: VERSION };

/**
 * Everything the gateway can relay, advertised at once: `initialize` is answered before any
 * server is connected (servers join later), and a client reads capabilities only there. The
 * lists hold the union of what the ready servers offer; what none offers is an empty list.
 */
const CAPABILITIES = {
  tools: { listChanged: true },
  resources: { subscribe: true, listChanged: true },
  prompts: { listChanged: true },
  completions: {},
  logging: {},
};

/**
 * The tools/call request as the gateway reads it: only the method is checked by schema;
 * `params` are forwarded untouched (the downstream validates its own arguments), so a
 * large argument object is not walked and copied on the way through.
 */
const ForwardedCallToolRequestSchema = z.object({ method: z.literal('tools/call'), params: z.any() });

/** An error sent back as JSON-RPC with exactly this code and message (no "MCP error" prefix added). */
class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

type ListKind = 'tools' | 'resources' | 'prompts';

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
  /** Each list as the client last saw it (listed, or told it changed); unset until it lists. */
  private readonly shown: Partial<Record<ListKind, string>> = {};
  private readonly pendingNotices = new Set<ListKind>();
  private notifyTimer?: NodeJS.Timeout;
  private initialized = false;
  private relay?: CallRelay;
  private onInitialized?: () => void;
  /** The client's logging/setLevel, applied to every server as it (re)connects. */
  private logLevel?: LoggingLevel;
  /** Subscriptions by the URI the client knows, restored when their server reconnects. */
  private readonly subscriptions = new Map<string, { server: Downstream; uri: string }>();
  private readonly hooked = new WeakSet<Downstream>();
  private readonly meta?: MetaTools;
  private readonly rules: () => AccessRules;

  constructor(
    private readonly downstreams: DownstreamSet,
    private readonly log: Logger,
    private readonly options: UpstreamOptions = {},
  ) {
    const allowAll = AccessRules.allowAll();
    this.rules = options.rules ?? (() => allowAll);
    this.tools = new ToolCatalog(downstreams.servers, (server, tool) => this.rules().allowsTool(options.agent, server, tool));
    if (options.mode === 'meta') this.meta = new MetaTools(downstreams.servers, this.rules, options.agent, options.maxCallsInFlight, options.startup);
    // Prompts and resources follow the rules' server visibility (for requests with no agent: the defaults).
    const visible = (server: string) => this.rules().allowsWholeServer(options.agent, server);
    this.prompts = new PromptCatalog(downstreams.servers, visible);
    this.resources = new ResourceCatalog(downstreams.servers, visible);
    this.server = new Server(SERVER_INFO, { capabilities: CAPABILITIES, ...(options.instructions ? { instructions: options.instructions } : {}) });
    this.server.oninitialized = () => {
      this.initialized = true;
      this.onInitialized?.();
      if (this.pendingNotices.size) this.scheduleNotices();
    };
    this.registerHandlers();
    downstreams.on('changed', () => this.onDownstreamsChanged());
    downstreams.on('added', (server) => this.hook(server));
    downstreams.on('removed', (server) => this.relay?.serverGone(server, 'the server was removed from the config'));
    for (const server of downstreams.servers) this.hook(server);
    this.onDownstreamsChanged();
  }

  /** A list as it is now, once the first lists may be answered; the client has then seen it. */
  private async answerList<T>(kind: ListKind, build: () => T): Promise<T> {
    await this.options.startup?.ready();
    const catalog = { tools: this.tools, resources: this.resources, prompts: this.prompts }[kind];
    this.shown[kind] = catalog.signature();
    return build();
  }

  private registerHandlers(): void {
    const server = this.server;
    server.setRequestHandler(ListToolsRequestSchema, () =>
      this.meta
        ? { tools: META_TOOLS }
        : this.answerList('tools', () => ({ tools: this.tools.route(STATUS_TOOL_NAME) ? this.tools.list() : [...this.tools.list(), STATUS_TOOL] })),
    );
    // Protocol's own registration: the SDK Server's override would validate every result
    // against CallToolResultSchema, which the client at the other end does anyway.
    Protocol.prototype.setRequestHandler.call(server, ForwardedCallToolRequestSchema, (request, extra) => {
      const params = request.params as { name?: unknown; arguments?: Record<string, unknown> } | undefined;
      if (this.meta && typeof params?.name === 'string') {
        if (!this.meta.has(params.name)) throw new RpcError(ErrorCode.InvalidParams, `Unknown tool: ${params.name} (this gateway runs in meta mode: use ${META_TOOLS.map((t) => t.name).join(', ')})`);
        return this.meta.call(params.name, params.arguments ?? {}, extra);
      }
      return this.callTool(request.params, extra);
    });

    server.setRequestHandler(ListPromptsRequestSchema, () => this.answerList('prompts', () => ({ prompts: this.prompts.list() })));
    server.setRequestHandler(GetPromptRequestSchema, (request, extra) => {
      const route = this.prompts.route(request.params.name);
      if (!route) throw new RpcError(ErrorCode.InvalidParams, `Unknown prompt: ${request.params.name}`);
      return this.forward(route.server, { method: 'prompts/get', params: { ...request.params, name: route.tool } }, extra) as never;
    });

    server.setRequestHandler(ListResourcesRequestSchema, () => this.answerList('resources', () => ({ resources: this.resources.list() })));
    server.setRequestHandler(ListResourceTemplatesRequestSchema, () =>
      this.answerList('resources', () => ({ resourceTemplates: this.resources.listTemplates() })),
    );
    server.setRequestHandler(ReadResourceRequestSchema, async (request, extra) => {
      const uri = request.params.uri;
      const route = this.routeResource(uri);
      const result = (await this.forward(route.server, { method: 'resources/read', params: { ...request.params, uri: route.uri } }, extra)) as {
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
      await this.forward(route.server, { method: 'resources/subscribe', params: { ...request.params, uri: route.uri } }, extra);
      this.subscriptions.set(request.params.uri, route);
      return {};
    });
    server.setRequestHandler(UnsubscribeRequestSchema, async (request, extra) => {
      const route = this.routeResource(request.params.uri);
      this.subscriptions.delete(request.params.uri);
      await this.forward(route.server, { method: 'resources/unsubscribe', params: { ...request.params, uri: route.uri } }, extra);
      return {};
    });

    server.setRequestHandler(CompleteRequestSchema, (request, extra) => {
      const ref = request.params.ref as { type: string; name?: string; uri?: string };
      if (ref.type === 'ref/prompt') {
        const route = this.prompts.route(ref.name ?? '');
        if (!route) throw new RpcError(ErrorCode.InvalidParams, `Unknown prompt: ${ref.name}`);
        return this.forward(route.server, { method: 'completion/complete', params: { ...request.params, ref: { ...ref, name: route.tool } } }, extra) as never;
      }
      const owner = this.resources.routeTemplate(ref.uri ?? '') ?? this.resources.route(ref.uri ?? '')?.server;
      if (!owner) throw new RpcError(ErrorCode.InvalidParams, `Unknown resource template: ${ref.uri}`);
      return this.forward(owner, { method: 'completion/complete', params: request.params }, extra) as never;
    });

    server.setRequestHandler(SetLevelRequestSchema, async (request) => {
      this.logLevel = request.params.level;
      await Promise.all(this.downstreams.servers.map((downstream) => this.applyLogLevel(downstream)));
      return {};
    });
    server.setNotificationHandler(RootsListChangedNotificationSchema, async () => {
      for (const downstream of this.downstreams.servers) {
        if (downstream.state.status === 'ready') await downstream.notify({ method: 'notifications/roots/list_changed' });
      }
    });
  }

  /** Wires one downstream to the client side: its requests, notifications and reconnects. */
  private hook(downstream: Downstream): void {
    if (this.hooked.has(downstream)) return;
    this.hooked.add(downstream);
    downstream.clientSetup = (client, declared) =>
      forwardClientRequests(client, declared, this.server, downstream.name, this.log, () => this.rules().allowsWholeServer(this.options.agent, downstream.name));
    downstream.onNotification = (notification) => this.fromServerNotification(downstream, notification);
    downstream.onReady = () => void this.restore(downstream);
    if (this.relay) this.attachRelay(downstream, this.relay);
  }

  private attachRelay(downstream: Downstream, relay: CallRelay): void {
    downstream.interceptor = (message) => relay.fromServer(downstream, message);
    downstream.rawLineInterceptor = (line) => relay.fromServerRawLine(downstream, line);
  }

  /** After a (re)connect: the client's log level and its subscriptions on that server. */
  private async restore(downstream: Downstream): Promise<void> {
    await this.applyLogLevel(downstream);
    for (const route of this.subscriptions.values()) {
      if (route.server.name !== downstream.name) continue;
      route.server = downstream; // A server restarted by a config edit is a new object.
      await downstream.request({ method: 'resources/subscribe', params: { uri: route.uri } }).catch((error: unknown) =>
        this.log.warn(`${downstream.name}: could not restore the subscription to ${route.uri}: ${errorMessage(error)}`),
      );
    }
  }

  private async applyLogLevel(downstream: Downstream): Promise<void> {
    if (!this.logLevel || downstream.state.status !== 'ready' || !downstream.capabilities?.logging) return;
    await downstream.request({ method: 'logging/setLevel', params: { level: this.logLevel } }).catch((error: unknown) =>
      this.log.debug(`${downstream.name}: logging/setLevel failed: ${errorMessage(error)}`),
    );
  }

  private fromServerNotification(downstream: Downstream, notification: Notification): void {
    // A server the agent may not use whole does not reach the client, not even by notification.
    if (!this.rules().allowsWholeServer(this.options.agent, downstream.name)) return;
    const params = (notification.params ?? {}) as Record<string, unknown>;
    if (notification.method === 'notifications/elicitation/complete') {
      const elicitation = this.server.getClientCapabilities()?.elicitation as { url?: object } | undefined;
      if (elicitation?.url) void this.server.notification(notification as never).catch(() => {});
      return;
    }
    if (notification.method === 'notifications/message') {
      // Tagged with the server's name, so the client can tell whose message it is.
      const logger = typeof params.logger === 'string' ? `${downstream.name}/${params.logger}` : downstream.name;
      void this.server.sendLoggingMessage({ ...(params as { level: LoggingLevel; data: unknown }), logger }).catch(() => {});
      return;
    }
    if (notification.method === 'notifications/resources/updated' && typeof params.uri === 'string') {
      void this.server.sendResourceUpdated({ ...params, uri: this.resources.exposedUri(downstream, params.uri) }).catch(() => {});
      return;
    }
    this.log.debug(`${downstream.name}: notification ${notification.method} not passed on`);
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

  /**
   * Passes a request to a server, with the client's cancellation and progress; its errors name
   * the server. A server that is starting, reconnecting or waiting for a login is waited for.
   */
  private async forward(downstream: Downstream, request: { method: string; params?: Record<string, unknown> }, extra: Parameters<typeof forwardOptions>[0]) {
    const notReady = await awaitServer(downstream, extra);
    if (notReady) throw new RpcError(ErrorCode.InternalError, notReady);
    try {
      return await downstream.request(request, forwardOptions(extra, downstream.config.timeout));
    } catch (error) {
      if (error instanceof McpError) throw new RpcError(error.code, `${downstream.name}: ${error.message.replace(/^MCP error -?\d+: /, '')}`, error.data);
      throw new RpcError(ErrorCode.InternalError, `${downstream.name}: ${errorMessage(error)}`);
    }
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
  async connect(transport: Transport, writeRawLine?: (line: string) => void): Promise<void> {
    await this.server.connect(transport);
    // In meta mode every call goes through execute_tool: the relay takes none.
    const route = this.meta ? () => undefined : (name: string) => this.tools.route(name);
    const relay = new CallRelay(transport, route, this.log, writeRawLine, this.options.maxCallsInFlight);
    this.relay = relay;
    const protocolOnMessage = transport.onmessage;
    transport.onmessage = (message, extra) => {
      if (!relay.fromClient(message)) protocolOnMessage?.(message, extra);
    };
    for (const server of this.downstreams.servers) this.attachRelay(server, relay);
  }

  /**
   * tools/call as the SDK server sees it: only calls the relay did not take, because the tool
   * is unknown or its server is not ready. A call for a server that is starting, reconnecting
   * or waiting for a login waits for it (also a name not listed yet whose prefix is such a
   * server), then goes through the SDK client; a failed server's call fails as it is.
   */
  private async callTool(params: unknown, extra: Parameters<typeof forwardOptions>[0]): Promise<CallToolResult> {
    const name = (params as { name?: unknown } | undefined)?.name;
    if (typeof name !== 'string') throw new RpcError(ErrorCode.InvalidParams, 'tools/call: "name" must be a string');
    const route = this.tools.route(name);
    if (!route && name === STATUS_TOOL_NAME) return this.status();
    const server = route?.server ?? this.unsettledOwner(name);
    if (!server) throw new RpcError(ErrorCode.InvalidParams, `Unknown tool: ${name}`);
    const notReady = await awaitServer(server, extra);
    const tool = route?.tool ?? name.slice(server.name.length + 2);
    if (notReady) return { isError: true, content: [{ type: 'text', text: `Server "${server.name}" could not complete ${tool}: ${notReady}` }] };
    const live = this.tools.route(name);
    if (!live || live.server !== server) throw new RpcError(ErrorCode.InvalidParams, `Unknown tool: ${name}`);
    return (await this.forward(server, { method: 'tools/call', params: { ...(params as Record<string, unknown>), name: live.tool } }, extra)) as CallToolResult;
  }

  /** The server a `<server>__<tool>` name belongs to when that server may still bring the tool (not settled yet). */
  private unsettledOwner(name: string): Downstream | undefined {
    const split = name.indexOf('__');
    const server = split > 0 ? this.downstreams.get(name.slice(0, split)) : undefined;
    if (!server || !['connecting', 'reconnecting', 'needs-auth'].includes(server.state.status)) return undefined;
    return this.rules().allowsServer(this.options.agent, server.name) ? server : undefined;
  }

  private status(): CallToolResult {
    const agent = this.options.agent;
    const servers = this.downstreams.servers
      .filter((server) => server.state.status !== 'disabled' && this.rules().allowsServer(agent, server.name))
      .map((server) => serverStatus(server, this.tools.list().filter((tool) => this.tools.route(tool.name)?.server === server).length));
    return { content: [{ type: 'text', text: JSON.stringify({ servers }, null, 2) }], structuredContent: { servers } };
  }

  /** The access rules changed: lists are rebuilt against them, and the client told. */
  rulesChanged(): void {
    this.meta?.invalidate();
    for (const [uri, route] of this.subscriptions) {
      if (!this.rules().allowsWholeServer(this.options.agent, route.server.name)) this.subscriptions.delete(uri);
    }
    this.onDownstreamsChanged();
  }

  private onDownstreamsChanged(): void {
    for (const server of this.downstreams.servers) if (server.state.status !== 'ready') this.relay?.serverGone(server);
    this.meta?.invalidate();
    const catalogs = { tools: this.tools, resources: this.resources, prompts: this.prompts };
    for (const kind of Object.keys(catalogs) as ListKind[]) {
      catalogs[kind].rebuild();
      // Only a list the client has seen can change for it. In meta mode the tool list is fixed.
      const shown = this.shown[kind];
      if (shown === undefined || shown === catalogs[kind].signature() || (kind === 'tools' && this.meta)) continue;
      this.pendingNotices.add(kind);
    }
    if (this.pendingNotices.size && this.initialized) this.scheduleNotices();
  }

  /** Coalesced: many servers changing together produce one notification per list. */
  private scheduleNotices(): void {
    if (this.notifyTimer) return;
    this.notifyTimer = setTimeout(() => {
      this.notifyTimer = undefined;
      const kinds = [...this.pendingNotices];
      this.pendingNotices.clear();
      const catalogs = { tools: this.tools, resources: this.resources, prompts: this.prompts };
      for (const kind of kinds) {
        this.shown[kind] = catalogs[kind].signature();
        const send =
          kind === 'tools' ? this.server.sendToolListChanged() : kind === 'resources' ? this.server.sendResourceListChanged() : this.server.sendPromptListChanged();
        send.catch((error: unknown) => this.log.debug(`${kind} list_changed not sent: ${errorMessage(error)}`));
      }
    }, 20);
  }

  async close(): Promise<void> {
    clearTimeout(this.notifyTimer);
    await this.server.close();
  }
}
