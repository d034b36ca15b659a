import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Notification, RequestId, ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';
import type { Downstream, DownstreamHooks } from '../downstream/downstream.js';
import type { DownstreamSet } from '../downstream/downstreamSet.js';
import type { Logger } from '../log/logger.js';
import { CallRelay, callIdCounter } from './callRelay.js';
import type { LinePieces } from '../shared/rawText.js';
import { forwardRequest } from './forwardRequest.js';
import type { CallInFlight } from './sessionRouting.js';
import { forwardClientRequests, onlyClient } from './clientRequests.js';
import { ClientSettings, type ClientSettingsView } from './clientSettings.js';
import { GatewayCatalogs, type CatalogOptions } from './gatewayCatalogs.js';
import { ListNotices, type ListKind } from './listNotices.js';
import { passServerNotification } from './serverNotifications.js';
import { registerHandlers } from './upstreamHandlers.js';
import { CAPABILITIES, SERVER_INFO } from './upstreamProtocol.js';

export { SERVER_INFO, STATUS_TOOL_NAME } from './upstreamProtocol.js';

export interface UpstreamOptions extends CatalogOptions {
  /** The gateway's `instructions` for its `initialize` result. */
  instructions?: string;
  /**
   * One of several clients of this process (the HTTP front's sessions): the catalogs and this
   * client's settings come from the SessionHub, which also wires the servers to the clients.
   * Absent: this server builds its own, and is the servers' one client.
   */
  shared?: { catalogs: GatewayCatalogs; settings: ClientSettingsView; nextCallId: () => number };
  /** What the server says it is and can do (a bridged server's own); default: the gateway's. */
  identity?: { serverInfo: { name: string; version: string }; capabilities: ServerCapabilities };
}

/**
 * The MCP server one client talks to: every ready downstream's tools, prompts and resources,
 * namespaced, each request routed to its owner, and the servers' own requests (sampling,
 * elicitation, roots) and notifications passed back to the client. Over stdio it is the
 * servers' one client; over HTTP there is one per session (see SessionHub).
 */
export class UpstreamServer {
  readonly server: Server;
  readonly catalogs: GatewayCatalogs;
  /** The client's logging/setLevel and subscriptions, applied to every server as it (re)connects. */
  readonly settings: ClientSettingsView;
  private readonly notices: ListNotices;
  private initialized = false;
  private relayOf?: CallRelay;
  private onInitialized?: () => void;
  private readonly nextCallId: () => number;
  /** This client's requests in flight outside the relay, by the id they are counted under (`gw-N`, as the relay's calls). */
  private readonly forwarded = new Map<string, { server: Downstream; upstreamId: RequestId }>();

  constructor(
    private readonly downstreams: DownstreamSet,
    private readonly log: Logger,
    private readonly options: UpstreamOptions = {},
  ) {
    this.catalogs = options.shared?.catalogs ?? new GatewayCatalogs(downstreams, options);
    this.settings = options.shared?.settings ?? new ClientSettings(log);
    const capabilities = options.identity?.capabilities ?? CAPABILITIES;
    this.server = new Server(options.identity?.serverInfo ?? SERVER_INFO, {
      capabilities,
      ...(options.instructions ? { instructions: options.instructions } : {}),
    });
    const server = this.server;
    const notify = {
      tools: () => server.sendToolListChanged(),
      resources: () => server.sendResourceListChanged(),
      prompts: () => server.sendPromptListChanged(),
    };
    // In meta mode the tool list is fixed; what changes is what its tools find.
    const { tools, resources, prompts, meta } = this.catalogs;
    this.notices = new ListNotices({ tools, resources, prompts }, (kind) => notify[kind](), log, new Set(meta ? ['tools'] : []));
    this.server.oninitialized = () => {
      this.initialized = true;
      this.onInitialized?.();
      this.notices.initialized();
    };
    this.nextCallId = options.shared?.nextCallId ?? callIdCounter();
    registerHandlers(server, {
      catalogs: this.catalogs,
      settings: this.settings,
      capabilities,
      answerList: (kind, build) => this.answerList(kind, build),
      forward: (downstream, request, extra) => this.forward(downstream, request, extra),
    });
    if (options.shared) return;
    downstreams.on('changed', () => this.onDownstreamsChanged());
    downstreams.on('removed', (server) => this.serverGone(server, 'the server was removed from the config'));
    downstreams.runtime.hooks = this.hooks();
    this.onDownstreamsChanged();
  }

  /** The per-call relay, once connected. */
  get relay(): CallRelay | undefined {
    return this.relayOf;
  }

  get isInitialized(): boolean {
    return this.initialized;
  }

  private async forward(...[server, request, extra]: Parameters<typeof forwardRequest>): Promise<unknown> {
    const id = `gw-${this.nextCallId()}`;
    this.forwarded.set(id, { server, upstreamId: extra.requestId });
    try {
      return await forwardRequest(server, request, extra);
    } finally {
      this.forwarded.delete(id);
    }
  }

  /** This client's calls and requests in flight to a server (see chooseSession). */
  callsTo(server: Downstream): CallInFlight[] {
    const calls = this.relayOf?.callsTo(server) ?? [];
    for (const [id, call] of this.forwarded) if (call.server === server) calls.push({ id, upstreamId: call.upstreamId });
    return calls;
  }

  /** A list as it is now, once the first lists may be answered; the client has then seen it. */
  private async answerList<T>(kind: ListKind, build: () => T): Promise<T> {
    await this.options.startup?.ready();
    this.notices.listed(kind);
    return build();
  }

  /** How every downstream is wired to the client side: its requests, notifications, reconnects and relayed answers. */
  private hooks(): DownstreamHooks {
    const settings = this.settings as ClientSettings;
    return {
      clientSetup: (downstream, client, declared) =>
        forwardClientRequests(
          client,
          declared,
          onlyClient(this.server, downstream.name, () => this.catalogs.allowsWholeServer(downstream.name)),
          downstream.name,
          this.log,
        ),
      onNotification: (downstream, notification) => this.passNotification(downstream, notification),
      onReady: (downstream) => void settings.restore(downstream),
      intercept: (downstream, message) => this.relayOf?.fromServer(downstream, message) ?? false,
      interceptRawLine: (downstream, line) => this.relayOf?.fromServerRawLine(downstream, line) ?? false,
    };
  }

  /** A server's notification for this client. A server the agent may not use whole does not reach it, not even by notification. */
  passNotification(downstream: Downstream, notification: Notification): void {
    if (this.catalogs.allowsWholeServer(downstream.name))
      passServerNotification(this.server, this.catalogs.resources, this.log, downstream, notification);
  }

  /** Fails this client's calls in flight to a server that went away. */
  serverGone(server: Downstream, why?: string): void {
    this.relayOf?.serverGone(server, why);
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
    const tools = this.catalogs.tools;
    const route = this.catalogs.meta ? () => undefined : (name: string) => tools.route(name);
    const relay = new CallRelay(transport, route, this.log, writeRawLine, this.options.maxCallsInFlight, undefined, this.nextCallId);
    this.relayOf = relay;
    const protocolOnMessage = transport.onmessage;
    transport.onmessage = (message, extra) => {
      if (!relay.fromClient(message)) protocolOnMessage?.(message, extra);
    };
  }

  /** The access rules changed: lists are rebuilt against them, and the client told. */
  rulesChanged(): void {
    this.settings.forgetUnless((server) => this.catalogs.allowsWholeServer(server));
    // Shared catalogs are rebuilt once, by the SessionHub, before it tells each session.
    if (!this.options.shared) this.catalogs.rebuild();
    this.listsChanged();
  }

  private onDownstreamsChanged(): void {
    this.catalogs.rebuild();
    this.listsChanged();
  }

  /** The shared catalogs were rebuilt: calls to servers no longer ready fail, and the client hears of lists that changed. */
  listsChanged(): void {
    for (const server of this.downstreams.servers) if (server.state.status !== 'ready') this.relayOf?.serverGone(server);
    this.notices.compare();
  }

  async close(): Promise<void> {
    this.notices.close();
    await this.server.close();
  }
}
