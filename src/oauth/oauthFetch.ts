import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { Agent, fetch as undiciFetch } from 'undici';
import { checkEndpointUrl } from './urlRules.js';
import { TransientAuthError, UnsafeAuthorizationServerError } from '../shared/errors.js';
import { PrivateNetworkError, type NetworkPolicy } from './networkPolicy.js';
import { settled, discardBody } from '../shared/bestEffort.js';

export const OAUTH_TIMEOUT_MS = 15_000;
export const OAUTH_MAX_RESPONSE_BYTES = 1024 * 1024;
const MAX_REDIRECTS = 3;

/**
 * The fetch for everything OAuth (metadata, registration, token requests): each URL,
 * including every redirect target, must pass the endpoint rules; each request has a
 * timeout; each response body is capped. Network failures and timeouts become
 * TransientAuthError, so callers can tell "try again later" from "log in again".
 *
 * Redirects: a caller asking for `redirect: 'manual'` (the SDK does, to follow only within
 * the origin) gets the 3xx as it is. Otherwise only GET requests are followed (metadata), and
 * an Authorization header is dropped when the origin changes; a request with a body (token,
 * registration, revocation: credentials) is never re-sent anywhere.
 *
 * With a `network` policy, no request goes into a network the policy refuses: a literal
 * address in the URL is checked before each hop, a name at the socket layer when it is
 * resolved (see NetworkPolicy); the connection goes to the checked address.
 */
export function createOAuthFetch(
  base?: FetchLike,
  {
    timeoutMs = OAUTH_TIMEOUT_MS,
    maxBytes = OAUTH_MAX_RESPONSE_BYTES,
    network,
  }: { timeoutMs?: number; maxBytes?: number; network?: NetworkPolicy } = {},
): FetchLike {
  const send = base ?? (network ? checkedFetch(network) : fetch);
  return async (input, init) => {
    let url = checkEndpointUrl(String(input instanceof URL ? input.href : input), 'an OAuth endpoint');
    const method = (init?.method ?? 'GET').toUpperCase();
    const follow = init?.redirect !== 'manual' && init?.redirect !== 'error' && (method === 'GET' || method === 'HEAD');
    let requestInit: RequestInit = { ...init, redirect: 'manual' };
    for (let hop = 0; ; hop++) {
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
      let response: Response;
      await network?.checkLiteral(url, 'an OAuth request');
      try {
        response = await send(url, { ...requestInit, signal });
      } catch (error) {
        const refused = causeChain(error).find((e) => e instanceof PrivateNetworkError);
        if (refused) throw refused;
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        const why = timeout.aborted
          ? `no answer within ${timeoutMs / 1000} s`
          : (cause?.code ?? cause?.message ?? (error as Error).message);
        throw new TransientAuthError(`cannot reach ${url.origin}: ${why}`, { cause: error });
      }
      const location = response.status >= 300 && response.status < 400 ? response.headers.get('location') : null;
      if (!location || !follow) return capBody(response, maxBytes, url);
      await discardBody(response);
      if (hop >= MAX_REDIRECTS) throw new TransientAuthError(`too many redirects from ${url.origin}`);
      const next = checkEndpointUrl(new URL(location, url).href, `a redirect from ${url.origin}`);
      if (next.origin !== url.origin && requestInit.headers) {
        const headers = new Headers(requestInit.headers);
        headers.delete('authorization');
        requestInit = { ...requestInit, headers };
      }
      url = next;
    }
  };
}

/** undici's fetch through an Agent whose connections resolve names with the policy's checked lookup. */
function checkedFetch(network: NetworkPolicy): FetchLike {
  const dispatcher = new Agent({ connect: { lookup: network.lookup as never, timeout: OAUTH_TIMEOUT_MS } });
  return (url, init) =>
    undiciFetch(url, { ...(init as object), dispatcher } as Parameters<typeof undiciFetch>[1]) as unknown as Promise<Response>;
}

function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let e = error; e && chain.length < 5; e = (e as { cause?: unknown }).cause) chain.push(e);
  return chain;
}

const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

async function capBody(response: Response, maxBytes: number, url: URL): Promise<Response> {
  if (!response.body || NULL_BODY_STATUS.has(response.status)) return response;
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await settled(reader.cancel());
      throw new UnsafeAuthorizationServerError(
        `answer larger than ${sizeInWords(maxBytes)} from ${url.origin}${url.pathname} (over ${maxBytes} bytes); refusing it`,
      );
    }
    chunks.push(value);
  }
  const body = Buffer.concat(chunks);
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}

/** 1048576 → "1 MiB", 1024 → "1 KiB". */
function sizeInWords(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}
