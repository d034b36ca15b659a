import { Agent, fetch as undiciFetch } from 'undici';
import { fetchWithOwnSignal, type FetchLike } from './fetchWithOwnSignal.js';

/**
 * The fetch used for MCP traffic to HTTP downstreams, and the pool the relay's own POSTs
 * (httpRelay.ts) share with it: undici with a connect timeout and no body or header timeout
 * (a tool call may legitimately take minutes; the MCP request timeout bounds it), one
 * connection pool shared by all servers.
 */
let agent: Agent | undefined;

export const CONNECT_TIMEOUT_MS = 10_000;

/**
 * The pool: connections kept alive between requests (undici's default, 4 s unless the server
 * says otherwise), as many per origin as there are requests in flight (no limit: a quick call
 * never queues behind slow ones on a shared connection) and no pipelining (one request at a
 * time per connection, for the same reason).
 */
export function mcpAgent(): Agent {
  agent ??= new Agent({ connect: { timeout: CONNECT_TIMEOUT_MS }, headersTimeout: 0, bodyTimeout: 0, connections: null, pipelining: 1 });
  return agent;
}

export function mcpFetch(): FetchLike {
  const dispatcher = mcpAgent();
  const base: FetchLike = (url, init) =>
    undiciFetch(url, { ...(init as object), dispatcher } as Parameters<typeof undiciFetch>[1]) as unknown as Promise<Response>;
  return fetchWithOwnSignal(base);
}
