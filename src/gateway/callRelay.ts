import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';
import { DEFAULT_CALL_TIMEOUT_MS, type Downstream } from '../downstream/downstream.js';
import { errorMessage, type Logger } from '../log/logger.js';
import type { ToolRoute } from './toolCatalog.js';
import { ignoreFailure } from '../shared/bestEffort.js';

const RAW_RESPONSE_TAIL = /,"id":"(gw-\d+)"\}$/;

export const DEFAULT_MAX_CALLS_IN_FLIGHT = 256;

interface PendingCall {
  upstreamId: RequestId;
  server: Downstream;
  tool: string;
  timer: NodeJS.Timeout;
  progressToken?: string | number;
  /** Aborted when the call is finished here: a call held for a login is then not sent again. */
  ended: AbortController;
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
 * id) and handed straight to the owning server's transport; its answer is rewritten back
 * and handed to the client's transport. Neither side's SDK Protocol sees the call, so the
 * gateway does not validate, wrap and re-serialize what both ends already check.
 *
 * It keeps what the SDK would have given: a per-call timeout (reset by progress), the
 * client's cancellation forwarded, progress notifications routed back, and a clear
 * result when the server disconnects mid-call; a call the server refuses for want of scopes
 * waits for the login for them and is sent again once (Downstream.send). Anything it does not take (unknown tool,
 * server not ready) falls through to the SDK server, which answers with an error.
 */
export class CallRelay {
  private nextId = 0;
  private readonly pending = new Map<string, PendingCall>();
  private readonly byUpstreamId = new Map<RequestId, string>();

  constructor(
    private readonly upstream: Transport,
    /** Where a tool name goes (undefined: the SDK server answers it instead). */
    private readonly route: (name: string) => ToolRoute | undefined,
    private readonly log: Logger,
    /** Writes one line to the client as it is, when the client's transport is a stream. */
    private readonly writeRawLine?: (line: string) => void,
    /** Calls in flight to one server at most; past it a call fails at once. */
    private readonly maxInFlight = DEFAULT_MAX_CALLS_IN_FLIGHT,
  ) {}

  private readonly inFlight = new Map<Downstream, number>();

  /**
   * A large line from a stdio server, before it is parsed. When it is the answer to a relayed
   * call, serialized the usual way (`{"result":…,"jsonrpc":"2.0","id":"gw-N"}`: the last
   * member, at the top level, since a nested one would be followed by another brace),
   * only its id is swapped and the line goes to the client as it is: a 1 MiB result is
   * not parsed and re-serialized on the way through.
   */
  fromServerRawLine(server: Downstream, line: string): boolean {
    if (!this.writeRawLine || !line.startsWith('{"result":')) return false;
    const tail = RAW_RESPONSE_TAIL.exec(line.slice(-64));
    if (!tail) return false;
    const id = tail[1]!;
    if (this.pending.get(id)?.server !== server) return false;
    const call = this.finish(id)!;
    this.writeRawLine(`${line.slice(0, line.length - tail[0].length)},"id":${JSON.stringify(call.upstreamId)}}`);
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
          this.reply(raw);
          return true;
        }
      }
    }
    return false;
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
    const id = `gw-${++this.nextId}`;
    const call: PendingCall = {
      upstreamId: message.id!,
      server: route.server,
      tool: route.tool,
      timer: undefined as unknown as NodeJS.Timeout,
      progressToken: message.params?._meta?.progressToken,
      ended: new AbortController(),
    };
    this.pending.set(id, call);
    this.byUpstreamId.set(call.upstreamId, id);
    this.armTimeout(id, call);
    const forwarded = { ...message, id, params: { ...message.params, name: route.tool } } as JSONRPCMessage;
    // Held for a login for more permissions (403 insufficient_scope), the call's timeout stops;
    // the wait has its own bound (LOGIN_WAIT_MS), and the call sent again gets its whole timeout.
    const hold = {
      signal: call.ended.signal,
      onHold: () => clearTimeout(call.timer),
      onResume: () => this.pending.has(id) && this.armTimeout(id, call),
    };
    route.server.send(forwarded, hold).catch((error: unknown) => {
      if (!this.finish(id)) return;
      this.failCall(call, errorMessage(error));
    });
    return true;
  }

  private armTimeout(id: string, call: PendingCall): void {
    clearTimeout(call.timer);
    const ms = call.server.config.timeout ?? DEFAULT_CALL_TIMEOUT_MS;
    call.timer = setTimeout(() => {
      if (!this.finish(id)) return;
      ignoreFailure(
        call.server.send({
          jsonrpc: '2.0',
          method: 'notifications/cancelled',
          params: { requestId: id, reason: `timed out after ${ms} ms` },
        }),
      );
      this.failCall(call, `timed out after ${ms} ms`);
    }, ms);
  }

  private finish(id: string): PendingCall | undefined {
    const call = this.pending.get(id);
    if (!call) return undefined;
    clearTimeout(call.timer);
    call.ended.abort();
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

  private reply(message: JSONRPCMessage | Message): void {
    this.upstream.send(message as JSONRPCMessage).catch((error: unknown) => this.log.debug(`reply not sent: ${errorMessage(error)}`));
  }
}
