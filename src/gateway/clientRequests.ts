import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ErrorCode,
  ListRootsRequestSchema,
  McpError,
  ResultSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../log/logger.js';
import { forwardOptions } from './forwardOptions.js';

/** A person may be answering (sampling approval, an elicitation form): wait long, but not forever. */
const CLIENT_REQUEST_TIMEOUT_MS = 10 * 60 * 1000;

const FORWARDED = [
  { schema: CreateMessageRequestSchema, capability: 'sampling', what: 'sampling (sampling/createMessage)' },
  { schema: ElicitRequestSchema, capability: 'elicitation', what: 'elicitation (elicitation/create)' },
  { schema: ListRootsRequestSchema, capability: 'roots', what: 'roots (roots/list)' },
] as const;

/**
 * Lets a downstream's own requests to its client reach the gateway's client: sampling,
 * elicitation and roots are passed up when the client declared that capability, and the
 * answer goes back down; otherwise the downstream gets a clear "method not found" error.
 */
export function forwardClientRequests(client: Client, upstream: Server, serverName: string, log: Logger, allowed: () => boolean = () => true): void {
  for (const { schema, capability, what } of FORWARDED) {
    const setHandler = client.setRequestHandler.bind(client) as unknown as (
      schema: unknown,
      handler: (request: { method: string; params?: unknown }, extra: Parameters<typeof forwardOptions>[0]) => Promise<unknown>,
    ) => void;
    setHandler(schema, async (request, extra) => {
      if (!allowed()) throw new McpError(ErrorCode.MethodNotFound, `the gateway's access rules do not let ${serverName} reach the client`);
      const capabilities = upstream.getClientCapabilities() as Record<string, unknown> | undefined;
      if (!capabilities?.[capability]) {
        throw new McpError(ErrorCode.MethodNotFound, `the client connected to the gateway does not support ${what}`);
      }
      // Elicitation comes in two modes; an empty capability object means form mode only.
      const mode = (request.params as { mode?: string } | undefined)?.mode ?? 'form';
      const elicitation = capabilities.elicitation as { form?: object; url?: object } | undefined;
      if (capability === 'elicitation' && (mode === 'url' ? !elicitation?.url : elicitation?.url && !elicitation.form)) {
        throw new McpError(ErrorCode.MethodNotFound, `the client connected to the gateway does not support ${mode}-mode elicitation`);
      }
      log.debug(`${serverName}: passing ${request.method} to the client`);
      return upstream.request(request as never, ResultSchema, forwardOptions(extra, CLIENT_REQUEST_TIMEOUT_MS));
    });
  }
}
