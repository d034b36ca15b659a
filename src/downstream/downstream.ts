import { EventEmitter } from 'node:events';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  ToolListChangedNotificationSchema,
  type JSONRPCMessage,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { ServerConfig } from '../config/types.js';
import { VERSION } from '../version.js';
import { errorMessage, type Logger } from '../log/logger.js';
import { describeState, type DownstreamState } from './downstreamState.js';
import type * as HttpTransportModule from './httpTransport.js';
import { createStdioTransport, StderrTail } from './stdioTransport.js';

export const CLIENT_INFO = { name: 'mcp-oauth-gateway', version: VERSION };
export const DEFAULT_CALL_TIMEOUT_MS = 60_000;

export interface DownstreamEvents {
  /** State or tool list changed. */
  changed: [];
}

/**
 * One client for one configured server: connects (with a timeout), keeps its tool list,
 * routes calls to it, and reports its state. Never throws out of `connect`: a failure
 * becomes the `failed` state with a reason.
 */
export class Downstream extends EventEmitter<DownstreamEvents> {
  state: DownstreamState;
  tools: Tool[] = [];
  /** The transport actually in use once ready (`sse` after a fallback). */
  transportKind: 'stdio' | 'streamable-http' | 'sse';
  /**
   * Set by the gateway: sees every message from this server before the SDK client does,
   * and returns true for those it takes (the answers to calls it relayed).
   */
  interceptor?: (message: JSONRPCMessage) => boolean;
  /** Like `interceptor`, for large lines from a stdio server, before they are parsed. */
  rawLineInterceptor?: (line: string) => boolean;
  private client?: Client;
  private transport?: Transport;
  private readonly stderrTail = new StderrTail();
  private closed = false;
  private connectedAt?: number;

  constructor(
    readonly config: ServerConfig,
    private readonly log: Logger,
    private readonly connectTimeoutMs: number,
  ) {
    super();
    this.state = config.disabled ? { status: 'disabled' } : { status: 'connecting' };
    this.transportKind = config.kind === 'stdio' ? 'stdio' : config.transport;
  }

  get name(): string {
    return this.config.name;
  }

  async connect(): Promise<void> {
    if (this.config.disabled || this.closed) return;
    this.setState({ status: 'connecting' });
    const started = Date.now();
    try {
      await withTimeout(this.connectOnce(), this.connectTimeoutMs, () => {
        void this.client?.close().catch(() => {});
        return `did not finish connecting within ${this.connectTimeoutMs} ms`;
      });
      this.connectedAt = Date.now();
      this.log.info(`ready: ${this.tools.length} tools via ${this.transportKind} (${this.connectedAt - started} ms)`);
      this.setState({ status: 'ready' });
    } catch (error) {
      await this.client?.close().catch(() => {});
      this.client = undefined;
      if (this.closed) return;
      const reason = this.explainFailure(error);
      this.log.warn(`failed: ${reason}`);
      this.setState({ status: 'failed', reason });
    }
  }

  private async connectOnce(): Promise<void> {
    const config = this.config;
    if (config.kind === 'stdio') {
      const transport = createStdioTransport(config, this.log, this.stderrTail);
      transport.lineBuffer.rawLineHandler = (line) => this.rawLineInterceptor?.(line) ?? false;
      await this.connectWith(transport);
      return;
    }
    // HTTP support (undici, the SDK's HTTP transports) is loaded only when a server needs it.
    const http = await loadHttpTransports();
    if (config.transport === 'sse') {
      await this.connectWith(http.createSseTransport(config));
      return;
    }
    try {
      await this.connectWith(http.createStreamableHttpTransport(config));
    } catch (error) {
      if (!http.shouldFallBackToSse(error) || this.closed) throw error;
      this.log.info(`Streamable HTTP refused (${errorMessage(error)}); trying the older HTTP+SSE transport`);
      this.transportKind = 'sse';
      await this.connectWith(http.createSseTransport(config));
    }
  }

  private async connectWith(transport: Transport): Promise<void> {
    const client = new Client(CLIENT_INFO, { capabilities: {} });
    this.client = client;
    client.onclose = () => this.onClientClosed(client);
    client.onerror = (error) => this.log.debug(`transport error: ${errorMessage(error)}`);
    await client.connect(transport);
    const protocolOnMessage = transport.onmessage;
    transport.onmessage = (message, extra) => {
      if (this.interceptor?.(message)) return;
      protocolOnMessage?.(message, extra);
    };
    this.transport = transport;
    if (this.closed) {
      await client.close();
      throw new Error('gateway is shutting down');
    }
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => this.refreshTools());
    this.tools = await this.listAllTools(client);
  }

  private async listAllTools(client: Client): Promise<Tool[]> {
    if (!client.getServerCapabilities()?.tools) return [];
    const tools: Tool[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor ? { cursor } : undefined);
      tools.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor);
    return tools;
  }

  private async refreshTools(): Promise<void> {
    const client = this.client;
    if (!client || this.state.status !== 'ready') return;
    try {
      this.tools = await this.listAllTools(client);
      this.emit('changed');
    } catch (error) {
      this.log.warn(`could not refresh the tool list: ${errorMessage(error)}`);
    }
  }

  private onClientClosed(client: Client): void {
    if (this.client !== client || this.closed) return;
    this.client = undefined;
    this.transport = undefined;
    if (this.state.status === 'ready') {
      const last = this.stderrTail.last();
      const reason = this.config.kind === 'stdio'
        ? `process exited${last ? ` (last stderr: ${last})` : ''}`
        : 'connection closed by the server';
      this.log.error(`disconnected: ${reason}`);
      this.tools = [];
      this.setState({ status: 'failed', reason });
    }
  }

  /** Sends a message to the server as it is: the per-call relay's path, bypassing the SDK client. */
  async send(message: JSONRPCMessage): Promise<void> {
    const transport = this.transport;
    if (!transport || this.state.status !== 'ready') {
      throw new Error(`server "${this.name}" is not ready (${describeState(this.state)})`);
    }
    await transport.send(message);
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = this.client;
    this.client = undefined;
    this.transport = undefined;
    await client?.close().catch(() => {});
  }

  private setState(state: DownstreamState): void {
    this.state = state;
    this.emit('changed');
  }

  private explainFailure(error: unknown): string {
    const message = errorMessage(error);
    if (this.config.kind === 'stdio') {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return `command not found: ${this.config.command} (check "command" and PATH)`;
      if (code === 'EACCES') return `command not executable: ${this.config.command}`;
      const last = this.stderrTail.last();
      if (/Connection closed/i.test(message)) {
        return `process exited during start${last ? ` (last stderr: ${last})` : ''}`;
      }
      return last ? `${message} (last stderr: ${last})` : message;
    }
    if (httpTransports?.httpStatusOf(error) === 401) {
      return 'the server requires OAuth login (HTTP 401)';
    }
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    if (cause?.code === 'ECONNREFUSED') return `cannot reach ${this.config.url}: connection refused (is the server running?)`;
    if (cause?.code === 'ENOTFOUND') return `cannot reach ${this.config.url}: host not found`;
    if (cause?.message && /fetch failed/.test(message)) return `cannot reach ${this.config.url}: ${cause.message}`;
    return message;
  }
}

let httpTransports: typeof HttpTransportModule | undefined;
async function loadHttpTransports(): Promise<typeof HttpTransportModule> {
  httpTransports ??= await import('./httpTransport.js');
  return httpTransports;
}

async function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(onTimeout())), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
