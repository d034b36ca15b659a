import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { HttpServerConfig } from '../config/types.js';
import { mcpFetch } from './httpFetch.js';

export interface HttpTransportOptions {
  authProvider?: OAuthClientProvider;
}

export function createStreamableHttpTransport(config: HttpServerConfig, options: HttpTransportOptions = {}): Transport {
  return new StreamableHTTPClientTransport(new URL(config.url), {
    requestInit: { headers: config.headers },
    fetch: mcpFetch(),
    authProvider: options.authProvider,
  });
}

export function createSseTransport(config: HttpServerConfig, options: HttpTransportOptions = {}): Transport {
  return new SSEClientTransport(new URL(config.url), {
    requestInit: { headers: config.headers },
    fetch: mcpFetch(),
    authProvider: options.authProvider,
  });
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
  return error instanceof StreamableHTTPError ? error.code : undefined;
}
