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
  type RequestId,
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
 * What several clients can do together (the HTTP front's sessions): each relayed capability
 * any of them declared, with the members of each merged. An elicitation capability declared
 * empty means form mode, and is spelled out so before merging with one that names url mode.
 */
export function unionOfClientCapabilities(clients: Iterable<ClientCapabilities | undefined>): ClientCapabilities {
  const union: Record<string, Record<string, unknown>> = {};
  for (const client of clients) {
    const relayed = relayedClientCapabilities(client) as Record<string, Record<string, unknown>>;
    for (const [capability, value] of Object.entries(relayed)) {
      const spelled = capability === 'elicitation' && !value.form && !value.url ? { ...value, form: {} } : value;
      union[capability] = { ...union[capability], ...spelled };
    }
  }
  return union as ClientCapabilities;
}

export type ClientCapability = (typeof FORWARDED)[number]['capability'];

/** The client that answers a server's request, and the client request it belongs to (its stream, over HTTP). */
export interface ClientRequestTarget {
  server: Server;
  relatedRequestId?: RequestId;
}

/** Chooses the client for a server's request, or throws the McpError the server gets instead. */
export type PickClient = (capability: ClientCapability, mode: string | undefined, what: string, params: unknown) => ClientRequestTarget;

/** Whether a client that declared `capabilities` can take a request for `capability` (for elicitation, in `mode`). */
export function clientSupports(
  capabilities: ClientCapabilities | undefined,
  capability: ClientCapability,
  mode: string | undefined,
): boolean {
  if (!capabilities?.[capability]) return false;
  if (capability !== 'elicitation') return true;
  // Elicitation comes in two modes; an empty capability object means form mode only.
  const elicitation = capabilities.elicitation as { form?: object; url?: object };
  return mode === 'url' ? !!elicitation.url : !(elicitation.url && !elicitation.form);
}

/** The one client of a stdio gateway, when it supports the request and the access rules let the server reach it. */
export function onlyClient(upstream: Server, serverName: string, allowed: () => boolean = () => true): PickClient {
  return (capability, mode, what) => {
    if (!allowed()) throw new McpError(ErrorCode.MethodNotFound, `the gateway's access rules do not let ${serverName} reach the client`);
    const capabilities = upstream.getClientCapabilities();
    if (!capabilities?.[capability])
      throw new McpError(ErrorCode.MethodNotFound, `the client connected to the gateway does not support ${what}`);
    if (!clientSupports(capabilities, capability, mode))
      throw new McpError(
        ErrorCode.MethodNotFound,
        `the client connected to the gateway does not support ${mode ?? 'form'}-mode elicitation`,
      );
    return { server: upstream };
  };
}

/**
 * Lets a downstream's own requests to its client reach a client of the gateway: sampling,
 * elicitation and roots are passed up (the capabilities `declared` to the server, which are
 * what the gateway's clients declared), to the client `pick` chooses, and the answer goes
 * back down. For what was not declared the server's request gets the SDK's "method not found".
 */
export function forwardClientRequests(
  client: Client,
  declared: ClientCapabilities,
  pick: PickClient,
  serverName: string,
  log: Logger,
): void {
  for (const { schema, capability, what } of FORWARDED) {
    if (!declared[capability]) continue;
    const setHandler = client.setRequestHandler.bind(client) as unknown as (
      schema: unknown,
      handler: (request: { method: string; params?: unknown }, extra: Parameters<typeof forwardOptions>[0]) => Promise<unknown>,
    ) => void;
    setHandler(schema, async (request, extra) => {
      const mode = capability === 'elicitation' ? ((request.params as { mode?: string } | undefined)?.mode ?? 'form') : undefined;
      const target = pick(capability, mode, what, request.params);
      log.debug(`${serverName}: passing ${request.method} to the client`);
      const options = { ...forwardOptions(extra, CLIENT_REQUEST_TIMEOUT_MS), relatedRequestId: target.relatedRequestId };
      return target.server.request(request as never, ResultSchema, options);
    });
  }
}
