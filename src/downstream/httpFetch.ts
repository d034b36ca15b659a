import { Agent, fetch as undiciFetch } from 'undici';
import { fetchWithOwnSignal, type FetchLike } from './fetchWithOwnSignal.js';

/**
 * The fetch used for MCP traffic to HTTP downstreams: undici with a connect timeout and
 * no body or header timeout (a tool call may legitimately take minutes; the MCP
 * request timeout bounds it), one connection pool shared by all servers.
 */
let agent: Agent | undefined;

export const CONNECT_TIMEOUT_MS = 10_000;

export function mcpFetch(): FetchLike {
  agent ??= new Agent({ connect: { timeout: CONNECT_TIMEOUT_MS }, headersTimeout: 0, bodyTimeout: 0 });
  const dispatcher = agent;
  const base: FetchLike = (url, init) =>
    undiciFetch(url, { ...(init as object), dispatcher } as Parameters<typeof undiciFetch>[1]) as unknown as Promise<Response>;
  return fetchWithOwnSignal(base);
}
