import { z } from 'zod';
import { VERSION } from '../version.js';

/** What the gateway is, as its client sees it: its name, capabilities, schemas and its own tool. */

/** Aggregate mode's one tool of its own: who is ready, who needs a login (with the URL), who failed and why. */
export const STATUS_TOOL_NAME = 'gateway__status';
export const STATUS_TOOL = {
  name: STATUS_TOOL_NAME,
  description:
    "The gateway's servers: which are ready, which need the user to log in (with the login URL) and which failed and why, with what to do about each.",
  inputSchema: { type: 'object' as const, properties: {} },
  annotations: { readOnlyHint: true },
};

export const SERVER_INFO = { name: 'mcp-oauth-gateway', version: VERSION };

/**
 * Everything the gateway can relay, advertised at once: `initialize` is answered before any
 * server is connected (servers join later), and a client reads capabilities only there. The
 * lists hold the union of what the ready servers offer; what none offers is an empty list.
 */
export const CAPABILITIES = {
  tools: { listChanged: true },
  resources: { subscribe: true, listChanged: true },
  prompts: { listChanged: true },
  completions: {},
  logging: {},
};

/**
 * The tools/call request as the gateway reads it: only the method is checked by schema;
 * `params` are forwarded untouched (the downstream validates its own arguments), so a
 * large argument object is not walked and copied on the way through.
 */
export const ForwardedCallToolRequestSchema = z.object({ method: z.literal('tools/call'), params: z.any() });

/** An error sent back as JSON-RPC with exactly this code and message (no "MCP error" prefix added). */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}
