import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  type ClientCapabilities,
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
 * What the gateway tells a server its client can do: exactly the sampling, elicitation (with
 * its modes) and roots capabilities its own client declared, since it only relays them. A
 * server told more would offer tools that then fail with -32601; told less, it loses nothing.
 */
export function relayedClientCapabilities(client: ClientCapabilities | undefined): ClientCapabilities {
  const relayed: ClientCapabilities = {};
  for (const { capability } of FORWARDED) if (client?.[capability]) relayed[capability] = client[capability] as never;
  return relayed;
}

/**
 * Lets a downstream's own requests to its client reach the gateway's client: sampling,
 * elicitation and roots are passed up (the capabilities `declared` to the server, which are
 * the client's own), and the answer goes back down. For what was not declared the server's
 * request gets the SDK's "method not found".
 */
export function forwardClientRequests(
  client: Client,
  declared: ClientCapabilities,
  upstream: Server,
  serverName: string,
  log: Logger,
  allowed: () => boolean = () => true,
): void {
  for (const { schema, capability, what } of FORWARDED) {
    if (!declared[capability]) continue;
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
