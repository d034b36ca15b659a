import { SSEClientTransport, SseError } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike, Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { HttpServerConfig } from '../config/types.js';
import { ServerAuth, type ServerAuthOptions } from '../oauth/serverAuth.js';
import { mcpAgent, mcpFetch } from './httpFetch.js';
import { HttpRelay, type HttpRelayOptions } from './httpRelay.js';

export interface HttpTransportOptions {
  /** Wraps the MCP fetch, e.g. ServerAuth's, which adds the server's Bearer token. */
  wrapFetch?: (base: FetchLike) => FetchLike;
}

function fetchFor(options: HttpTransportOptions): FetchLike {
  const base = mcpFetch() as FetchLike;
  return options.wrapFetch ? options.wrapFetch(base) : base;
}

export function createStreamableHttpTransport(config: HttpServerConfig, options: HttpTransportOptions = {}): Transport {
  return new StreamableHTTPClientTransport(new URL(config.url), {
    requestInit: { headers: config.headers },
    fetch: fetchFor(options),
  });
}

export function createSseTransport(config: HttpServerConfig, options: HttpTransportOptions = {}): Transport {
  return new SSEClientTransport(new URL(config.url), {
    requestInit: { headers: config.headers },
    fetch: fetchFor(options),
  });
}

/** The per-call relay's POST to a Streamable HTTP server (see httpRelay.ts), beside its SDK transport. */
export function createHttpRelay(
  config: HttpServerConfig,
  transport: Transport,
  options: Pick<HttpRelayOptions, 'auth' | 'rawAnswer'>,
): HttpRelay {
  return new HttpRelay({
    url: new URL(config.url),
    headers: config.headers,
    transport: transport as StreamableHTTPClientTransport,
    dispatcher: mcpAgent(),
    ...options,
  });
}

/** The OAuth side of an HTTP server (loaded with the HTTP transports). */
export function createServerAuth(options: ServerAuthOptions): ServerAuth {
  return new ServerAuth(options);
}

/**
 * Whether a failed Streamable HTTP connect looks like a pre-2025 server that only speaks
 * HTTP+SSE: such servers answer the initialize POST with 404 or 405 (or 400), not 401/403.
 */
export function shouldFallBackToSse(error: unknown): boolean {
  return [400, 404, 405].includes(httpStatusOf(error) ?? 0);
}

/** The HTTP status behind a Streamable HTTP transport error, if that is what it is. */
export function httpStatusOf(error: unknown): number | undefined {
  return error instanceof StreamableHTTPError || error instanceof SseError ? error.code : undefined;
}
