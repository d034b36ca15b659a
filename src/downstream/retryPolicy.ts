import { backoffDelay } from '../shared/backoff.js';

/** Reconnecting a server that went away: 1 s, doubling, at most a minute (MCP_GATEWAY_RECONNECT_BASE_MS for tests). */
const RECONNECT_BASE_MS = Number(process.env.MCP_GATEWAY_RECONNECT_BASE_MS) || 1000;
const RECONNECT_MAX_MS = 60_000;

/** Connected this long, a server that goes away is taken to have been healthy: its backoff starts over. */
export const STABLE_AFTER_MS = 30_000;

/**
 * Retrying a server whose authorization server was unreachable: 30–60 s, doubling, up to 5–10
 * min (MCP_GATEWAY_RETRY_BASE_MS for tests): the backoff ceiling is twice the minimum, so
 * its fixed half is never shorter.
 */
const AUTH_RETRY_MIN_MS = Number(process.env.MCP_GATEWAY_RETRY_BASE_MS) || 30_000;

/** The wait before reconnect attempt `attempt` (from 0). */
export const reconnectDelay = (attempt: number) => backoffDelay(attempt, RECONNECT_BASE_MS, RECONNECT_MAX_MS);

/** The wait before retry `attempt` (from 0) of a server whose authorization server could not be used. */
export const authRetryDelay = (attempt: number) => backoffDelay(attempt, 2 * AUTH_RETRY_MIN_MS, 10 * 60_000);
