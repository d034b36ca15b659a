import { discardBody } from '../shared/bestEffort.js';

/**
 * Asks an MCP server, without a token, what it wants: an `initialize` POST, answered with its
 * status and, on a 401, the `WWW-Authenticate` challenge (resource metadata URL, scope).
 * `headers`: the server's configured ones (`gateway doctor` sends them, as a connection would).
 * @see [MCP 2025-06-18 Authorization, Authorization Server Location](https://modelcontextprotocol.io/specification/2025-06-18/basic/authorization#authorization-server-location)
 */
export async function probeServer(
  url: string,
  timeoutMs: number,
  { headers = {}, clientName = 'mcp-oauth-gateway' }: { headers?: Record<string, string>; clientName?: string } = {},
): Promise<{ status: number; challenge: string | null }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: clientName, version: '0' } },
    }),
    signal: AbortSignal.timeout(timeoutMs),
    redirect: 'manual',
  });
  await discardBody(response);
  return { status: response.status, challenge: response.headers.get('www-authenticate') };
}
