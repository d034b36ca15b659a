import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { FetchLike, Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  ErrorCode,
  McpError,
  PromptListChangedNotificationSchema,
  ResourceListChangedNotificationSchema,
  ToolListChangedNotificationSchema,
  type ClientCapabilities,
  type Implementation,
  type JSONRPCMessage,
  type Notification,
} from '@modelcontextprotocol/sdk/types.js';
import type { HttpServerConfig, ServerConfig } from '../config/types.js';
import type { BearerSource } from '../oauth/bearerFetch.js';
import type { RawText } from '../shared/rawText.js';
import { errorMessage, type Logger } from '../log/logger.js';
import { ServerClosedError } from '../shared/errors.js';
import { VERSION } from '../version.js';
import type * as HttpTransportModule from './httpTransport.js';
import { fetchLists, type ListKind, type ServerLists } from './serverLists.js';
import { createStdioTransport, type StderrTail } from './stdioTransport.js';

export const CLIENT_INFO = { name: 'mcp-oauth-gateway', version: VERSION };

export type TransportKind = 'stdio' | 'streamable-http' | 'sse';

/** A live connection to a server: its SDK client, transport, and what it said at the start. */
export interface Connection {
  client: Client;
  transport: Transport;
  kind: TransportKind;
  lists: Required<ServerLists>;
  instructions?: string;
  serverInfo?: Implementation;
  /** How the per-call relay sends a message as it is: the HTTP relay's POST for Streamable HTTP, else the transport's send. */
  send(message: JSONRPCMessage): Promise<void>;
}

/** What the gateway does with a connection's traffic (the upstream side); each takes the connection's client. */
export interface ConnectionHandlers {
  /** Handlers for the server's own requests, for the client capabilities `declared` to it. */
  setup(client: Client, declared: ClientCapabilities): void;
  /** Sees every message before the SDK client; true for those it takes (answers to relayed calls). */
  intercept(message: JSONRPCMessage): boolean;
  /** The same for a message's text before it is parsed (a stdio server's line, an HTTP server's answer). */
  interceptRawLine(line: RawText): boolean;
  notification(notification: Notification): void;
  listChanged(client: Client, kinds: ListKind[]): void;
  error(client: Client, error: Error): void;
  closed(client: Client): void;
}

export interface OpenOptions {
  config: ServerConfig;
  log: Logger;
  stderrTail: StderrTail;
  declared: ClientCapabilities;
  handlers: ConnectionHandlers;
  /** The HTTP transports, loaded on first use (HTTP servers only). */
  http?: typeof HttpTransportModule;
  /** Wraps the HTTP fetch (ServerAuth's adds the Bearer token). */
  wrapFetch?: (base: FetchLike) => FetchLike;
  /** The server's token for the HTTP relay's own POSTs (ServerAuth.bearer). */
  auth?: BearerSource;
  /** The client made for an attempt, as soon as it exists (so a timeout or shutdown can close it). */
  onClient(client: Client): void;
  /** Whether the gateway is shutting down (then no fallback is tried, and a new connection is closed). */
  isClosed(): boolean;
}

/**
 * Opens a connection: spawns a stdio server, or opens Streamable HTTP (falling back to the
 * older HTTP+SSE transport when the server refuses it with 400/404/405), initializes with
 * the declared client capabilities, and reads every list. Stateless: the caller owns the result.
 */
export async function openConnection(options: OpenOptions): Promise<Connection> {
  const { config, http } = options;
  if (config.kind === 'stdio') {
    const transport = createStdioTransport(config, options.log, options.stderrTail);
    transport.lineBuffer.rawLineHandler = (line) => options.handlers.interceptRawLine(line);
    return connectWith(transport, 'stdio', options);
  }
  const transportOptions = { wrapFetch: options.wrapFetch };
  if (config.transport === 'sse') return connectWith(http!.createSseTransport(config, transportOptions), 'sse', options);
  try {
    return await connectWith(http!.createStreamableHttpTransport(config, transportOptions), 'streamable-http', options);
  } catch (error) {
    if (!http!.shouldFallBackToSse(error) || options.isClosed()) throw error;
    options.log.info(`Streamable HTTP refused (${errorMessage(error)}); trying the older HTTP+SSE transport`);
    return connectWith(http!.createSseTransport(config, transportOptions), 'sse', options);
  }
}

/**
 * Initializes and reads the lists. A request that fails because the transport closed (the
 * SDK's ConnectionClosed, which a server may also send as its own error code) becomes
 * ServerClosedError: the process exited, or the stream ended, before the server was ready.
 */
async function connectWith(transport: Transport, kind: TransportKind, options: OpenOptions): Promise<Connection> {
  let closed = false;
  try {
    return await initialize(transport, kind, options, () => (closed = true));
  } catch (error) {
    if (closed && error instanceof McpError && error.code === ErrorCode.ConnectionClosed)
      throw new ServerClosedError(error.message, { cause: error });
    throw error;
  }
}

async function initialize(transport: Transport, kind: TransportKind, options: OpenOptions, onClosed: () => void): Promise<Connection> {
  const { handlers, declared } = options;
  // Only what the gateway's client declared: a server must not offer what then fails with -32601.
  const client = new Client(CLIENT_INFO, { capabilities: declared });
  options.onClient(client);
  client.onclose = () => {
    onClosed();
    handlers.closed(client);
  };
  client.onerror = (error) => handlers.error(client, error);
  client.fallbackNotificationHandler = async (notification) => handlers.notification(notification);
  handlers.setup(client, declared);
  await client.connect(transport);
  // Every message passes the interceptor first: the relayed calls' answers never reach the SDK client.
  const protocolOnMessage = transport.onmessage;
  transport.onmessage = (message, extra) => {
    if (!handlers.intercept(message)) protocolOnMessage?.(message, extra);
  };
  const send = relaySend(transport, kind, options);
  if (options.isClosed()) {
    await client.close();
    throw new Error('gateway is shutting down');
  }
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => handlers.listChanged(client, ['tools']));
  client.setNotificationHandler(ResourceListChangedNotificationSchema, () => handlers.listChanged(client, ['resources']));
  client.setNotificationHandler(PromptListChangedNotificationSchema, () => handlers.listChanged(client, ['prompts']));
  const lists = (await fetchLists(client, ['tools', 'resources', 'prompts'])) as Required<ServerLists>;
  return { client, transport, kind, lists, instructions: client.getInstructions(), serverInfo: client.getServerVersion(), send };
}

/** The relay's way to the server (see Connection.send); an HTTP relay's requests in flight end when the transport closes. */
function relaySend(transport: Transport, kind: TransportKind, options: OpenOptions): Connection['send'] {
  if (kind !== 'streamable-http') return (message) => transport.send(message);
  const relay = options.http!.createHttpRelay(options.config as HttpServerConfig, transport, {
    auth: options.auth,
    rawAnswer: (text) => options.handlers.interceptRawLine(text),
  });
  const protocolOnClose = transport.onclose;
  transport.onclose = () => {
    relay.close();
    protocolOnClose?.();
  };
  return (message) => relay.send(message);
}
