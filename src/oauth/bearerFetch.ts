import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { discardBody } from '../shared/bestEffort.js';

/** What bearerFetch needs of a server's tokens and challenges. */
export interface BearerSource {
  /** The origin of the server the token was issued for. */
  origin: string;
  /** The access token to send now (refreshed first if it expires soon). */
  accessToken(): Promise<string | undefined>;
  /** Whether a 401 can be cured without a person (a refresh token, or client credentials). */
  renewable(): boolean;
  /** New tokens after `rejected` was refused; undefined when a login is needed. */
  refresh(rejected: string | undefined): Promise<{ access_token: string } | undefined>;
  unauthorized(header: string | null): void;
  forbidden(header: string | null): void;
  /**
   * The server answered a request carrying `token` with `status`: 401 refuses the token (a 403
   * is a token it authenticated but that lacks a scope: a step-up, not a refusal).
   */
  answered?(token: string, status: number): Promise<void> | void;
}

/**
 * The fetch for a server's MCP traffic: the server's Bearer token on requests to its own
 * origin only (RFC 6750 §2.1); on a 401, one refresh and one retry. A 401 it cannot cure goes
 * back to the transport, which then fails with 401.
 * @see [RFC 6750 §2.1](https://www.rfc-editor.org/rfc/rfc6750.html#section-2.1)
 */
export function bearerFetch(base: FetchLike, source: BearerSource): FetchLike {
  return async (input, init) => {
    const target = new URL(input instanceof URL ? input.href : String(input));
    // A token is only ever sent to the server it was issued for.
    if (target.origin !== source.origin) return base(input, init);
    const token = await source.accessToken();
    let response = await base(input, withBearer(init, token));
    if (response.status === 403) source.forbidden(response.headers.get('www-authenticate'));
    if (token) await source.answered?.(token, response.status);
    if (response.status !== 401) return response;
    source.unauthorized(response.headers.get('www-authenticate'));
    if (!source.renewable()) return response;
    await discardBody(response);
    const refreshed = await source.refresh(token);
    if (!refreshed) return new Response(null, { status: 401, headers: response.headers });
    response = await base(input, withBearer(init, refreshed.access_token));
    if (response.status === 401) source.unauthorized(response.headers.get('www-authenticate'));
    await source.answered?.(refreshed.access_token, response.status);
    return response;
  };
}

function withBearer(init: RequestInit | undefined, token: string | undefined): RequestInit | undefined {
  if (!token) return init;
  const headers = new Headers(init?.headers);
  headers.set('authorization', `Bearer ${token}`);
  return { ...init, headers };
}
