import { setMaxListeners } from 'node:events';
import { StreamableHTTPError, type StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { createParser } from 'eventsource-parser';
import { request, type Dispatcher } from 'undici';
import { ignoreFailure } from '../shared/bestEffort.js';
import { sendWithBearer, type BearerExchange, type BearerSource } from '../oauth/bearerFetch.js';
import { headerValue, mediaType, relayHeaders, toFetchError } from './httpRelayParts.js';

/**
 * The per-call relay's way to a Streamable HTTP server: a relayed message (a `tools/call`, its
 * cancellation) is POSTed with undici's request API and the answer read from the response as
 * it comes, instead of through the SDK transport's fetch and web streams, which cost about a
 * millisecond and two hundred promises a call (README, "Performance").
 *
 * What the SDK transport would have done, it keeps:
 * - the same request: the transport's session id and negotiated protocol version, the
 *   server's configured headers, the Accept and Content-Type the spec asks for, and the
 *   server's Bearer token, to its own origin only; on the connection pool of the server's
 *   other traffic (httpFetch.ts);
 * - OAuth as bearerFetch does it (sendWithBearer, the same code): a 401 refreshes the token
 *   once and the POST is sent once more, a 403's challenge is recorded (the request path then
 *   holds the call for a step-up login);
 * - a redirect (the server did not act on the message) sends it again through the transport,
 *   whose fetch follows one within the origin;
 * - other refusals fail as the SDK's do: StreamableHTTPError with the status (404: the
 *   request path opens a new session and sends again), the transport's `onerror` told first;
 *   a connection failure as fetch's does (a TypeError whose cause has the system code);
 * - an answer, JSON or an SSE stream, goes where the SDK's would, in order: a relayed call's
 *   answer to `rawAnswer` as text (passed on with its id swapped, see gateway/rawAnswer.ts),
 *   anything else (progress, the server's own requests) parsed to the transport's `onmessage`;
 * - an SSE stream that ends or breaks before its answer, after an event with an id, is
 *   resumed from that id through the transport, as the SDK does, after the server's `retry`
 *   (else the SDK's 1 s);
 * - `close()` (the connection closes) aborts the requests in flight.
 * A response's Mcp-Session-Id is not read: a session is set by `initialize`, which the SDK sends.
 * @see https://modelcontextprotocol.io/specification/2025-06-18/basic/transports#sending-messages-to-the-server
 */
export interface HttpRelayOptions {
  url: URL;
  /** The server's configured headers. */
  headers?: Record<string, string>;
  transport: StreamableHTTPClientTransport;
  dispatcher: Dispatcher;
  /** The server's token (ServerAuth.bearer), sent as bearerFetch sends it. */
  auth?: BearerSource;
  /** A relayed call's answer, as text; true when it was passed on. */
  rawAnswer(text: string): boolean;
}

/** Redirects: the message is sent again through the SDK transport's fetch, which follows one within the origin. */
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** undici's answer; `refused`: a 401 no refresh could cure, its body discarded. */
type Answer = Dispatcher.ResponseData & { refused?: boolean };
/** The SDK's first reconnection delay when the server set no `retry`. */
export const RESUME_AFTER_MS = 1000;

/** How sendWithBearer reads undici's answer. */
const READ_ANSWER: Omit<BearerExchange<Answer>, 'send'> = {
  status: (answer) => answer.statusCode,
  header: (answer, name) => headerValue(answer.headers[name]),
  discard: (answer) => answer.body.dump().catch(() => undefined),
  refused: (answer) => ({ ...answer, refused: true }),
};

export class HttpRelay {
  private readonly closing = new AbortController();

  constructor(private readonly options: HttpRelayOptions) {
    // Every request in flight listens to it: as many as the server's calls in flight.
    setMaxListeners(0, this.closing.signal);
  }

  /** Resolves once the server has taken the message (as the SDK's send: the answer may still be streaming). */
  async send(message: JSONRPCMessage): Promise<void> {
    if ((await this.post(message)) === 'sdk') await this.options.transport.send(message);
  }

  close(): void {
    this.closing.abort();
  }

  private async post(message: JSONRPCMessage): Promise<'sdk' | undefined> {
    const { transport } = this.options;
    try {
      const response = await this.exchange(JSON.stringify(message));
      const status = response.statusCode;
      if (REDIRECTS.has(status)) {
        ignoreFailure(response.body.dump());
        return 'sdk';
      }
      if (status < 200 || status > 299) {
        const text = response.refused ? '' : await response.body.text().catch(() => null);
        throw new StreamableHTTPError(status, `Error POSTing to endpoint: ${text}`);
      }
      const isRequest = 'method' in message && 'id' in message && message.id !== undefined;
      const type = mediaType(response.headers['content-type']);
      if (status === 202 || !isRequest) return void ignoreFailure(response.body.dump());
      if (type === 'text/event-stream') return void this.readEvents(message, response.body);
      if (type === 'application/json') return void this.readJson(await response.body.text());
      ignoreFailure(response.body.dump());
      throw new StreamableHTTPError(-1, `Unexpected content type: ${String(response.headers['content-type'])}`);
    } catch (error) {
      transport.onerror?.(error as Error);
      throw error;
    }
  }

  /** The POST, with the server's token as bearerFetch sends it (one refresh and retry on a 401, a 403's challenge recorded). */
  private exchange(body: string): Promise<Answer> {
    const { auth, url } = this.options;
    if (!auth) return this.request(body, undefined);
    return sendWithBearer<Answer>(auth, url, { ...READ_ANSWER, send: (token) => this.request(body, token) });
  }

  private async request(body: string, token: string | undefined): Promise<Answer> {
    const { transport, url, headers, dispatcher } = this.options;
    try {
      return await request(url, {
        method: 'POST',
        headers: relayHeaders(transport, headers, token),
        body,
        dispatcher,
        signal: this.closing.signal,
      });
    } catch (error) {
      throw this.closing.signal.aborted ? error : toFetchError(error);
    }
  }

  /** A JSON answer: one message or a batch. */
  private readJson(text: string): void {
    const body = text.trim();
    if (this.options.rawAnswer(body)) return;
    const data = JSON.parse(body) as JSONRPCMessage | JSONRPCMessage[];
    for (const message of Array.isArray(data) ? data : [data]) this.deliver(message);
  }

  /** An SSE answer, read as it arrives; resumed from its last event id when it ends before the answer. */
  private readEvents(message: JSONRPCMessage, body: Dispatcher.ResponseData['body']): void {
    let lastEventId: string | undefined;
    let retryMs: number | undefined;
    let answered = false;
    const parser = createParser({
      onEvent: (event) => {
        if (event.id) lastEventId = event.id;
        if (!event.data || (event.event && event.event !== 'message')) return;
        if (this.fromEvent(event.data)) answered = true;
      },
      onRetry: (ms) => (retryMs = ms),
    });
    const decoder = new TextDecoder();
    body.on('data', (chunk: Buffer) => parser.feed(decoder.decode(chunk, { stream: true })));
    let over = false;
    const ended = (error?: unknown) => {
      if (over) return;
      over = true;
      if (error !== undefined) this.options.transport.onerror?.(new Error(`SSE stream disconnected: ${String(error)}`));
      if (answered || lastEventId === undefined || this.closing.signal.aborted) return;
      const resumptionToken = lastEventId;
      setTimeout(() => ignoreFailure(this.options.transport.send(message, { resumptionToken })), retryMs ?? RESUME_AFTER_MS);
    };
    body.once('end', () => ended());
    body.once('error', ended);
  }

  /** One event's data; true when it was an answer (to the call the stream is for). */
  private fromEvent(data: string): boolean {
    if (this.options.rawAnswer(data)) return true;
    let message: JSONRPCMessage;
    try {
      message = JSON.parse(data) as JSONRPCMessage;
    } catch (error) {
      this.options.transport.onerror?.(error as Error);
      return false;
    }
    this.deliver(message);
    return 'id' in message && ('result' in message || 'error' in message);
  }

  private deliver(message: JSONRPCMessage): void {
    const { transport } = this.options;
    if (typeof message !== 'object' || message === null || (message as { jsonrpc?: unknown }).jsonrpc !== '2.0') {
      transport.onerror?.(new Error(`not a JSON-RPC 2.0 message: ${JSON.stringify(message).slice(0, 200)}`));
      return;
    }
    transport.onmessage?.(message);
  }
}
