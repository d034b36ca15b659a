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

/** One request sent with or without a token, and how to read its answer (a fetch Response, or undici's request answer). */
export interface BearerExchange<T> {
  send(token: string | undefined): Promise<T>;
  status(answer: T): number;
  header(answer: T, name: string): string | null;
  /** Lets go of an answer's body that will not be read. */
  discard(answer: T): Promise<void>;
  /** What to return for a 401 that no refresh could cure (its body discarded). */
  refused(answer: T): T;
}

/**
 * A request with the server's Bearer token, to its own origin only (RFC 6750 §2.1); on a 401,
 * one refresh and one retry. A 401 it cannot cure is returned, and the transport then fails
 * with 401; a 403's challenge is recorded (a step-up may follow, see StepUp).
 * @see [RFC 6750 §2.1](https://www.rfc-editor.org/rfc/rfc6750.html#section-2.1)
 */
export async function sendWithBearer<T>(source: BearerSource, target: URL, exchange: BearerExchange<T>): Promise<T> {
  // A token is only ever sent to the server it was issued for.
  if (target.origin !== source.origin) return exchange.send(undefined);
  const token = await source.accessToken();
  let answer = await exchange.send(token);
  if (exchange.status(answer) === 403) source.forbidden(exchange.header(answer, 'www-authenticate'));
  if (token) await source.answered?.(token, exchange.status(answer));
  if (exchange.status(answer) !== 401) return answer;
  source.unauthorized(exchange.header(answer, 'www-authenticate'));
  if (!source.renewable()) return answer;
  await exchange.discard(answer);
  const refreshed = await source.refresh(token);
  if (!refreshed) return exchange.refused(answer);
  answer = await exchange.send(refreshed.access_token);
  if (exchange.status(answer) === 401) source.unauthorized(exchange.header(answer, 'www-authenticate'));
  await source.answered?.(refreshed.access_token, exchange.status(answer));
  return answer;
}

/** The fetch for a server's MCP traffic: sendWithBearer over `base`. */
export function bearerFetch(base: FetchLike, source: BearerSource): FetchLike {
  return (input, init) =>
    sendWithBearer(source, new URL(input instanceof URL ? input.href : String(input)), {
      send: (token) => base(input, withBearer(init, token)),
      status: (response) => response.status,
      header: (response, name) => response.headers.get(name),
      discard: (response) => discardBody(response),
      refused: (response) => new Response(null, { status: 401, headers: response.headers }),
    });
}

function withBearer(init: RequestInit | undefined, token: string | undefined): RequestInit | undefined {
  if (!token) return init;
  const headers = new Headers(init?.headers);
  headers.set('authorization', `Bearer ${token}`);
  return { ...init, headers };
}
