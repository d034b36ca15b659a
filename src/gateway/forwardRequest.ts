import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import type { Downstream } from '../downstream/downstream.js';
import { errorMessage } from '../log/logger.js';
import { awaitServer } from './awaitServer.js';
import { forwardOptions } from './forwardOptions.js';
import { RpcError } from './upstreamProtocol.js';

/** What the SDK hands a request handler: the client's cancellation, progress token and sender. */
export type HandlerExtra = Parameters<typeof forwardOptions>[0];

/**
 * Passes a request to a server, with the client's cancellation and progress; its errors name
 * the server. A server that is starting, reconnecting or waiting for a login is waited for.
 */
export async function forwardRequest(
  downstream: Downstream,
  request: { method: string; params?: Record<string, unknown> },
  extra: HandlerExtra,
): Promise<unknown> {
  const notReady = await awaitServer(downstream, extra);
  if (notReady) throw new RpcError(ErrorCode.InternalError, notReady);
  try {
    return await downstream.request(request, forwardOptions(extra, downstream.config.timeout));
  } catch (error) {
    throw namedAfter(downstream, error);
  }
}

/** A server's error as the client sees it: the server's own code and message, prefixed with its name. */
export function namedAfter(downstream: Downstream, error: unknown): RpcError {
  if (error instanceof McpError)
    return new RpcError(error.code, `${downstream.name}: ${error.message.replace(/^MCP error -?\d+: /, '')}`, error.data);
  return new RpcError(ErrorCode.InternalError, `${downstream.name}: ${errorMessage(error)}`);
}
