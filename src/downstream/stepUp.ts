import { errorMessage, type Logger } from '../log/logger.js';
import { redact } from '../log/redact.js';
import { InsufficientScopeError } from '../shared/errors.js';

/** How long a call waits for a login it needs (MCP_GATEWAY_LOGIN_WAIT_MS shortens it for tests). */
export const LOGIN_WAIT_MS = Number(process.env.MCP_GATEWAY_LOGIN_WAIT_MS) || 60_000;

/**
 * What a request's sender hears while the request is held for a login for more permissions:
 * `onHold` when it starts waiting, `onResume` just before it is sent again. `signal` ends the
 * wait (the request is then not sent again): the relay's for a call it has finished (timed
 * out, cancelled by the client, its server gone), the client's cancellation for the others.
 */
export interface StepUpHold {
  signal?: AbortSignal;
  onHold?(): void;
  onResume?(): void;
}

/**
 * The step-up of one server (MCP authorization, "Step-Up Authorization Flow"): a request the
 * server refused with 403 `insufficient_scope` waits for a login that asks for the scopes held
 * plus those challenged, then is sent once more, as the SDK's own transport does. One login
 * at a time: requests refused meanwhile wait for the same one. The wait is bounded by
 * LOGIN_WAIT_MS (the login itself goes on: the user may still finish it) and by the hold's signal.
 */
export class StepUp {
  private login?: Promise<void>;
  /** Step-up logins finished so far: a request refused with a token older than the last one's is sent again without another. */
  private finished = 0;

  constructor(
    private readonly log: Logger,
    private readonly logIn: () => Promise<void>,
  ) {}

  /** What to note before sending a request, for `applies` and `wait` if it is refused. */
  get mark(): number {
    return this.finished;
  }

  /**
   * Whether a request sent at `mark` and refused (403) is for a step-up: a login is under way
   * (it waits for that one), one finished since the request was sent (it is sent again with
   * the new token), or `due()` says the refusal calls for one.
   */
  applies(mark: number, due: () => boolean): boolean {
    return this.login !== undefined || this.finished !== mark || due();
  }

  /** Waits for the login (starting it unless one is under way or finished since `mark`); throws InsufficientScopeError saying why the request is not sent again. */
  async wait(hold: StepUpHold, mark: number): Promise<void> {
    if (!this.login && this.finished !== mark) return;
    this.login ??= this.logIn()
      .then(() => void this.finished++)
      .finally(() => {
        this.login = undefined;
      });
    const login = this.login;
    hold.onHold?.();
    let timer: NodeJS.Timeout | undefined;
    let aborted: (() => void) | undefined;
    try {
      await Promise.race([
        login.catch((error: unknown) => {
          throw new InsufficientScopeError(
            `the server needs more permissions for this, and the login for them failed (${redact(errorMessage(error))}); the call was not sent again`,
            { cause: error },
          );
        }),
        new Promise<never>((_resolve, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new InsufficientScopeError(
                  `the server needs more permissions for this, and the login for them did not finish within ${Math.round(LOGIN_WAIT_MS / 1000)} s; finish it in the browser, then call again`,
                ),
              ),
            LOGIN_WAIT_MS,
          );
          aborted = () => reject(new InsufficientScopeError('the call ended while it waited for the login for more permissions'));
          if (hold.signal?.aborted) aborted();
          else hold.signal?.addEventListener('abort', aborted, { once: true });
        }),
      ]);
    } finally {
      clearTimeout(timer);
      if (aborted) hold.signal?.removeEventListener('abort', aborted);
    }
    this.log.info('logged in with more permissions; sending the call again');
    hold.onResume?.();
  }
}

/** The words for a request the server refused again after the login for more permissions (no second login: no second tab). */
export function refusedAfterStepUp(why: string | undefined): InsufficientScopeError {
  return new InsufficientScopeError(
    `the server refused this call for want of permissions (HTTP 403 insufficient_scope) even after a login for more permissions${why ? `: ${why}` : ''}; ` +
      "the gateway does not log in again for it (ask the server's administrator to grant these scopes to your account)",
  );
}
