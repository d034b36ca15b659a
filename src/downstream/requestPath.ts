import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import { ErrorCode, McpError, ResultSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { ServerConfig } from '../config/types.js';
import type { Logger } from '../log/logger.js';
import type { ServerAuth } from '../oauth/serverAuth.js';
import { readRequestFailure, type RequestFailure } from './downstreamFailures.js';
import { DEFAULT_CALL_TIMEOUT_MS } from './downstreamRuntime.js';
import { httpStatusOf } from './httpSupport.js';
import type { Connection } from './openConnection.js';
import { refusedAfterStepUp, type StepUp, type StepUpHold } from './stepUp.js';

/** What the request path needs of the server's lifecycle (Downstream). */
export interface RequestPathOwner {
  readonly config: ServerConfig;
  readonly log: Logger;
  /** The connection while the server is ready; otherwise why it cannot take requests. */
  live(): Connection | string;
  /** Whether the transport in use has sessions a server can forget (Streamable HTTP). */
  hasSessions(): boolean;
  /** Closes the connection and opens a new one (a new session), then tells the gateway it is ready. */
  reopen(): Promise<void>;
  /** Acts on what a failed request means for the connection: a new login, a slow retry, a reconnect. */
  failed(error: unknown, failure: RequestFailure): void;
  readonly auth?: ServerAuth;
  readonly stepUp?: StepUp;
}

/**
 * How requests reach one server once it is connected: through the SDK client (`request`) or,
 * for the per-call relay, as they are (`send`). Both run over the session: one the server
 * forgot (HTTP 404) is opened again and the request sent once more; a 403
 * `insufficient_scope` holds the request for a step-up login (StepUp), then sends it once
 * more, and refused again it fails saying so, with no second login. What a failure means
 * for the connection (log in again, retry later, reconnect) is the owner's to act on.
 */
export class RequestPath {
  private resetting?: Promise<void>;

  constructor(private readonly owner: RequestPathOwner) {}

  /**
   * Through the SDK client (everything but the relayed tools/call), with the server's call
   * timeout reset by progress. While a request waits for a step-up login no timeout runs: the
   * wait has its own bound (LOGIN_WAIT_MS) and the request's signal ends it; the request sent
   * again has its whole timeout.
   */
  request(request: { method: string; params?: Record<string, unknown> }, options: RequestOptions = {}): Promise<Record<string, unknown>> {
    const timeout = this.owner.config.timeout ?? DEFAULT_CALL_TIMEOUT_MS;
    const send = () =>
      this.connection(McpError).client.request(request as never, ResultSchema, { timeout, resetTimeoutOnProgress: true, ...options });
    return this.overSession(send, { signal: options.signal });
  }

  /** As it is, bypassing the SDK client: the per-call relay's path. `hold`: see StepUpHold. */
  send(message: JSONRPCMessage, hold?: StepUpHold): Promise<void> {
    return this.overSession(() => this.connection(Error).send(message), hold);
  }

  private connection(As: typeof McpError | typeof Error): Connection {
    const live = this.owner.live();
    if (typeof live !== 'string') return live;
    throw As === McpError ? new McpError(ErrorCode.InternalError, live) : new Error(live);
  }

  private async overSession<T>(use: () => Promise<T>, hold: StepUpHold = {}): Promise<T> {
    const stepUp = this.owner.stepUp;
    const mark = stepUp?.mark ?? 0;
    try {
      return await use();
    } catch (error) {
      if (this.owner.hasSessions() && httpStatusOf(error) === 404) {
        await this.resetSession();
        return use();
      }
      const failure = this.readFailure(error, mark);
      if (failure.act !== 'step-up') throw this.failed(error, failure);
      await stepUp!.wait(hold, mark);
      try {
        return await use();
      } catch (again) {
        throw httpStatusOf(again) === 403
          ? refusedAfterStepUp(this.owner.auth?.noStepUp)
          : this.failed(again, this.readFailure(again, stepUp!.mark));
      }
    }
  }

  /** The server answered 404 for our session (it restarted, or expired it): a new one, transparently; one at a time. */
  private resetSession(): Promise<void> {
    this.resetting ??= (async () => {
      this.owner.log.info('the server no longer knows this session (HTTP 404); opening a new one');
      await this.owner.reopen();
    })().finally(() => {
      this.resetting = undefined;
    });
    return this.resetting;
  }

  /** The failure acted on by the owner; returns the error to report for the request. */
  private failed(error: unknown, failure: RequestFailure): unknown {
    this.owner.failed(error, failure);
    // A 403 insufficient_scope that brings no login (its scopes were asked for, or the step-ups are used up) says so.
    const noStepUp = this.owner.auth?.noStepUp;
    if (failure.act === 'none' && httpStatusOf(error) === 403 && noStepUp) return refusedAfterStepUp(noStepUp);
    return failure.act === 'none' ? error : new Error(failure.message);
  }

  /** What a failed request sent at `mark` means; a 403 may be a step-up (see StepUp.applies). */
  private readFailure(error: unknown, mark: number): RequestFailure {
    const stepUp = () => Boolean(this.owner.stepUp?.applies(mark, () => this.owner.auth?.takeStepUp() ?? false));
    return readRequestFailure(this.owner.config, error, httpStatusOf(error), stepUp);
  }
}
