/** The stateless parts of the HTTP relay (httpRelay.ts): the request's headers, the answer's media type, errors as fetch's. */

/** What the relay reads of the SDK transport: the session and protocol version `initialize` set. */
export interface SessionHeaders {
  readonly sessionId?: string;
  readonly protocolVersion?: string;
}

/**
 * The headers of a relayed POST, as the SDK transport and bearerFetch build them: the session
 * id and protocol version, the server's configured headers over those, then Content-Type and
 * Accept, then the Bearer token. Names are lower case, so a configured header replaces ours
 * whatever its case. `accept-encoding: identity`: the body is read as it comes, not decoded
 * (fetch would decode a compressed one); the User-Agent is the one undici's fetch sends, so
 * the server sees one client.
 * @see https://modelcontextprotocol.io/specification/2025-06-18/basic/transports#session-management
 * @see https://modelcontextprotocol.io/specification/2025-06-18/basic/transports#protocol-version-header
 */
export function relayHeaders(session: SessionHeaders, configured: Record<string, string> = {}, token?: string): Record<string, string> {
  const headers: Record<string, string> = { 'user-agent': 'undici', 'accept-encoding': 'identity' };
  if (session.sessionId) headers['mcp-session-id'] = session.sessionId;
  if (session.protocolVersion) headers['mcp-protocol-version'] = session.protocolVersion;
  for (const [name, value] of Object.entries(configured)) headers[name.toLowerCase()] = value;
  headers['content-type'] = 'application/json';
  headers.accept = 'application/json, text/event-stream';
  if (token) headers.authorization = `Bearer ${token}`;
  return headers;
}

/** A header's value as undici gives it (a list when repeated), read as fetch's `headers.get` reads it: joined by ", ". */
export function headerValue(value: string | string[] | undefined): string | null {
  return (Array.isArray(value) ? value.join(', ') : value) ?? null;
}

/** A Content-Type's media type, lower case, without parameters (`text/event-stream; charset=utf-8` → `text/event-stream`). */
export function mediaType(contentType: string | string[] | undefined): string | undefined {
  return headerValue(contentType)?.split(';')[0]!.trim().toLowerCase() || undefined;
}

/**
 * A request that got no answer, in the shape fetch rejects with (a TypeError whose cause is
 * the system error, with its code): what the request path reads as the server gone away
 * (downstreamFailures.networkError).
 */
export function toFetchError(error: unknown): unknown {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? new TypeError('fetch failed', { cause: error }) : error;
}
