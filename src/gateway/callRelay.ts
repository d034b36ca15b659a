import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';
import { DEFAULT_CALL_TIMEOUT_MS, type Downstream, type StepUpHold } from '../downstream/downstream.js';
import { errorMessage, type Logger } from '../log/logger.js';
import type { ToolRoute } from './toolCatalog.js';
import { ignoreFailure } from '../shared/bestEffort.js';
import { Deadlines, systemClock, type DeadlineClock } from '../shared/deadlines.js';
import { readRawAnswer } from './rawAnswer.js';
import type { LinePieces, RawText } from '../shared/rawText.js';

export const DEFAULT_MAX_CALLS_IN_FLIGHT = 256;

/** Numbers for call ids (`gw-N`). Relays that share servers (the HTTP front's sessions) share one, so their ids never collide. */
export function callIdCounter(): () => number {
  let last = 0;
  return () => ++last;
}

interface PendingCall {
  upstreamId: RequestId;
  server: Downstream;
  tool: string;
  progressToken?: string | number;
  /** Aborted when the call is finished here: a call held for a login is then not sent again (made only if one is held). */
  ended?: AbortController;
}

type Message = {
  jsonrpc: '2.0';
  id?: RequestId;
  method?: string;
  params?: { name?: unknown; _meta?: { progressToken?: string | number }; requestId?: RequestId; progressToken?: unknown };
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
};

/**
 * The per-call fast path. A `tools/call` from the client is rewritten (tool name, request
 * id) and handed straight to the owning server (Downstream.send: a stdio server's pipe, or an
 * HTTP server's POST, downstream/httpRelay.ts); its answer is rewritten back and written to
 * the client. Neither side's SDK Protocol sees the call, so the gateway does not validate,
 * wrap and re-serialize what both ends already check.
 *
 * Invariants:
 * - a call is parsed once, on its way in; its answer is not parsed when its id can be found
 *   in its text (rawAnswer.ts): it goes to the client as it came, with the client's id in
 *   place of the gateway's `gw-N` (any other answer is parsed and written once);
 * - an answer is taken only from the server the call went to, and only once; ids are the
 *   gateway's own, so two clients' ids never meet at a server;
 * - every call ends exactly once: answered, failed (with why), cancelled by the client, or
 *   timed out (the server is then told it was cancelled); its deadline, its place in the
 *   server's limit (gateway.maxCallsInFlight) and its ids go with it;
 * - the deadlines are one timer for all calls (shared/deadlines.ts); progress for a call
 *   starts its timeout again; a call held for a step-up login (403 insufficient_scope, see
 *   Downstream.send) has none while it waits, and its whole timeout once sent again;
 * - the client's cancellation reaches the server under the gateway's id;
 * - anything it does not take (unknown tool, server not ready) falls through to the SDK
 *   server, which answers it (toolCallFallback.ts).
 */
export class CallRelay {
  private readonly pending = new Map<string, PendingCall>();
  private readonly byUpstreamId = new Map<RequestId, string>();

  constructor(
    private readonly upstream: Transport,
    /** Where a tool name goes (undefined: the SDK server answers it instead). */
    private readonly route: (name: string) => ToolRoute | undefined,
    private readonly log: Logger,
    /** Writes one line to the client as it is, when the client's transport is a stream. */
    private readonly writeRawLine?: (line: string | LinePieces) => void,
    /** Calls in flight to one server at most; past it a call fails at once. */
    private readonly maxInFlight = DEFAULT_MAX_CALLS_IN_FLIGHT,
    clock: DeadlineClock = systemClock,
    private readonly nextCallId = callIdCounter(),
  ) {
    this.deadlines = new Deadlines((id) => this.timedOut(id), clock);
  }

  private readonly inFlight = new Map<Downstream, number>();
  private readonly deadlines: Deadlines<string>;

  /**
   * A message's text from a server, before it is parsed (a stdio server's line, an HTTP
   * server's answer). When it is the answer to a relayed call and its id can be found without
   * parsing (rawAnswer.ts), only the id is swapped and the text goes to the client as it is.
   */
  fromServerRawLine(server: Downstream, line: RawText): boolean {
    if (!this.writeRawLine) return false;
    const answer = readRawAnswer(line);
    if (!answer || this.pending.get(answer.id)?.server !== server) return false;
    const call = this.finish(answer.id)!;
    this.writeRawLine(answer.withId(call.upstreamId));
    return true;
  }

  /** A message from the client; true when the relay took it. */
  fromClient(raw: JSONRPCMessage): boolean {
    const message = raw as Message;
    if (message.method === 'tools/call' && message.id !== undefined) return this.startCall(message);
    if (message.method === 'notifications/cancelled' && message.params?.requestId !== undefined) {
      const downstreamId = this.byUpstreamId.get(message.params.requestId);
      if (downstreamId === undefined) return false;
      const call = this.finish(downstreamId)!;
      ignoreFailure(call.server.send({ ...message, params: { ...message.params, requestId: downstreamId } } as JSONRPCMessage));
      return true;
    }
    return false;
  }

  /** A message from a downstream server; true when it answers or reports on a relayed call. */
  fromServer(server: Downstream, raw: JSONRPCMessage): boolean {
    const message = raw as Message;
    if (message.id !== undefined && message.method === undefined) {
      if (typeof message.id !== 'string' || this.pending.get(message.id)?.server !== server) return false;
      const call = this.finish(message.id)!;
      if (message.error) {
        const error = { ...message.error, message: `${server.name}: ${message.error.message.replace(/^MCP error -?\d+: /, '')}` };
        this.reply({ jsonrpc: '2.0', id: call.upstreamId, error });
      } else {
        this.reply({ jsonrpc: '2.0', id: call.upstreamId, result: message.result });
      }
      return true;
    }
    if (message.method === 'notifications/progress' && message.params?.progressToken !== undefined) {
      for (const [id, call] of this.pending) {
        if (call.server === server && call.progressToken === message.params.progressToken) {
          this.armTimeout(id, call);
          this.reply(message, call.upstreamId);
          return true;
        }
      }
    }
    return false;
  }

  /** The calls in flight to a server, oldest first: the id it knows each by (`gw-N`, N rising with each call) and the client's. */
  callsTo(server: Downstream): Array<{ id: string; upstreamId: RequestId }> {
    const calls: Array<{ id: string; upstreamId: RequestId }> = [];
    for (const [id, call] of this.pending) if (call.server === server) calls.push({ id, upstreamId: call.upstreamId });
    return calls;
  }

  /** The client went away for good (its session ended): every call in flight is cancelled at its server. */
  cancelAll(reason: string): void {
    for (const id of [...this.pending.keys()]) {
      const call = this.finish(id)!;
      const cancel = { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason } } as const;
      ignoreFailure(call.server.send(cancel));
    }
  }

  /** Fails every call in flight to a server that went away. */
  serverGone(server: Downstream, why?: string): void {
    for (const [id, call] of this.pending) {
      if (call.server !== server) continue;
      this.finish(id);
      const state = server.state;
      const reason =
        why ??
        ('reason' in state ? `${state.reason}${state.status === 'reconnecting' ? '; the gateway is reconnecting it' : ''}` : undefined);
      this.failCall(call, `the server disconnected during the call${reason ? ` (${reason})` : ''}`);
    }
  }

  private startCall(message: Message): boolean {
    const name = message.params?.name;
    const route = typeof name === 'string' ? this.route(name) : undefined;
    if (!route || route.server.state.status !== 'ready') return false;
    const busy = this.inFlight.get(route.server) ?? 0;
    if (busy >= this.maxInFlight) {
      this.reply({
        jsonrpc: '2.0',
        id: message.id!,
        result: {
          isError: true,
          content: [
            {
              type: 'text',
              text: `Server "${route.server.name}" already has ${busy} calls in flight, the gateway's limit (gateway.maxCallsInFlight); retry when some have finished`,
            },
          ],
        },
      });
      return true;
    }
    this.inFlight.set(route.server, busy + 1);
    const id = `gw-${this.nextCallId()}`;
    const call: PendingCall = {
      upstreamId: message.id!,
      server: route.server,
      tool: route.tool,
      progressToken: message.params?._meta?.progressToken,
    };
    this.pending.set(id, call);
    this.byUpstreamId.set(call.upstreamId, id);
    this.armTimeout(id, call);
    const forwarded = { ...message, id, params: { ...message.params, name: route.tool } } as JSONRPCMessage;
    route.server.send(forwarded, this.hold(id, call)).catch((error: unknown) => {
      if (!this.finish(id)) return;
      this.failCall(call, errorMessage(error));
    });
    return true;
  }

  /**
   * Held for a login for more permissions (403 insufficient_scope), the call's timeout stops;
   * the wait has its own bound (LOGIN_WAIT_MS), and the call sent again gets its whole timeout.
   * The signal that ends the wait when the call is over is made only if a wait begins.
   */
  private hold(id: string, call: PendingCall): StepUpHold {
    const pending = this.pending;
    return {
      get signal() {
        return pending.has(id) ? (call.ended ??= new AbortController()).signal : AbortSignal.abort();
      },
      onHold: () => this.deadlines.delete(id),
      onResume: () => void (this.pending.has(id) && this.armTimeout(id, call)),
    };
  }

  private armTimeout(id: string, call: PendingCall): void {
    this.deadlines.set(id, call.server.config.timeout ?? DEFAULT_CALL_TIMEOUT_MS);
  }

  private timedOut(id: string): void {
    const call = this.finish(id);
    if (!call) return;
    const reason = `timed out after ${call.server.config.timeout ?? DEFAULT_CALL_TIMEOUT_MS} ms`;
    ignoreFailure(call.server.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason } }));
    this.failCall(call, reason);
  }

  private finish(id: string): PendingCall | undefined {
    const call = this.pending.get(id);
    if (!call) return undefined;
    this.deadlines.delete(id);
    call.ended?.abort();
    this.pending.delete(id);
    this.byUpstreamId.delete(call.upstreamId);
    this.inFlight.set(call.server, (this.inFlight.get(call.server) ?? 1) - 1);
    return call;
  }

  private failCall(call: PendingCall, reason: string): void {
    this.log.warn(`call to ${call.server.name}__${call.tool} failed: ${reason}`);
    this.reply({
      jsonrpc: '2.0',
      id: call.upstreamId,
      result: {
        isError: true,
        content: [{ type: 'text', text: `Server "${call.server.name}" could not complete ${call.tool}: ${reason}` }],
      },
    });
  }

  /**
   * A message to the client: one line on its stream when it is one, else through its transport;
   * `relatedRequestId`: the client's request a notification belongs to (over HTTP, it goes on that request's stream).
   */
  private reply(message: JSONRPCMessage | Message, relatedRequestId?: RequestId): void {
    if (this.writeRawLine) return this.writeRawLine(JSON.stringify(message));
    const options = relatedRequestId === undefined ? undefined : { relatedRequestId };
    this.upstream
      .send(message as JSONRPCMessage, options)
      .catch((error: unknown) => this.log.debug(`reply not sent: ${errorMessage(error)}`));
  }
}
