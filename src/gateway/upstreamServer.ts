import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { Protocol } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, ListToolsRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { Downstream } from '../downstream/downstream.js';
import { describeState } from '../downstream/downstreamState.js';
import type { DownstreamSet } from '../downstream/downstreamSet.js';
import { errorMessage, type Logger } from '../log/logger.js';
import { VERSION } from '../version.js';
import { CallRelay } from './callRelay.js';
import { ToolCatalog } from './toolCatalog.js';

export const SERVER_INFO = { name: 'mcp-oauth-gateway', version: VERSION };

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

/**
 * The one MCP server the client talks to: every ready downstream's tools, namespaced,
 * with each call routed to its owner.
 */
export class UpstreamServer {
  readonly server: Server;
  private readonly catalog: ToolCatalog;
  private lastSignature = '';
  private notifyTimer?: NodeJS.Timeout;
  private initialized = false;
  private relay?: CallRelay;
  private readonly servers: readonly Downstream[];
  private onInitialized?: () => void;

  constructor(
    downstreams: DownstreamSet,
    private readonly log: Logger,
  ) {
    this.catalog = new ToolCatalog(downstreams.servers);
    this.server = new Server(SERVER_INFO, { capabilities: { tools: { listChanged: true } } });
    this.server.oninitialized = () => {
      this.initialized = true;
      this.onInitialized?.();
    };
    this.server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: this.catalog.list() }));
    // Protocol's own registration: the SDK Server's override would validate every result
    // against CallToolResultSchema, which the client at the other end does anyway.
    Protocol.prototype.setRequestHandler.call(this.server, ForwardedCallToolRequestSchema, (request) =>
      this.callTool(request.params),
    );
    downstreams.on('changed', () => this.onDownstreamsChanged());
    this.servers = downstreams.servers;
    this.onDownstreamsChanged();
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
    const relay = new CallRelay(transport, this.catalog, this.log, writeRawLine);
    this.relay = relay;
    const protocolOnMessage = transport.onmessage;
    transport.onmessage = (message, extra) => {
      if (!relay.fromClient(message)) protocolOnMessage?.(message, extra);
    };
    for (const server of this.servers) {
      server.interceptor = (message) => relay.fromServer(server, message);
      server.rawLineInterceptor = (line) => relay.fromServerRawLine(server, line);
    }
  }

  /**
   * tools/call as the SDK server sees it: only calls the relay did not take, because the
   * tool is unknown or its server is not ready.
   */
  private callTool(params: unknown): CallToolResult {
    const name = (params as { name?: unknown } | undefined)?.name;
    if (typeof name !== 'string') throw new RpcError(ErrorCode.InvalidParams, 'tools/call: "name" must be a string');
    const route = this.catalog.route(name);
    if (!route) throw new RpcError(ErrorCode.InvalidParams, `Unknown tool: ${name}`);
    const reason = `server "${route.server.name}" is not ready (${describeState(route.server.state)})`;
    return { isError: true, content: [{ type: 'text', text: `Server "${route.server.name}" could not complete ${route.tool}: ${reason}` }] };
  }

  private onDownstreamsChanged(): void {
    for (const server of this.servers) if (server.state.status !== 'ready') this.relay?.serverGone(server);
    this.catalog.rebuild();
    const signature = this.catalog.signature();
    if (signature === this.lastSignature) return;
    this.lastSignature = signature;
    // Coalesce: many servers becoming ready together produce one notification.
    if (this.notifyTimer || !this.initialized) return;
    this.notifyTimer = setTimeout(() => {
      this.notifyTimer = undefined;
      this.server.sendToolListChanged().catch((error) => this.log.debug(`list_changed not sent: ${errorMessage(error)}`));
    }, 20);
  }

  async close(): Promise<void> {
    clearTimeout(this.notifyTimer);
    await this.server.close();
  }
}
