import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { failurePage, rejectedPage, successPage } from './callbackPages.js';
import { CallbackPortInUseError, OAuthFlowError } from '../shared/errors.js';

export const CALLBACK_PATH = '/callback';
export const DEFAULT_CALLBACK_TIMEOUT_MS = 5 * 60 * 1000;

export interface CallbackExpectations {
  serverName: string;
  /** The `state` this flow sent; anything else is refused and the listener keeps waiting. */
  state: string;
  /** When the authorization server advertises RFC 9207 support: the `iss` the callback must carry. */
  issuer?: string;
  /** The authorization server's issuer, which an `iss` the callback carries anyway must equal. */
  expectedIssuer?: string;
  timeoutMs?: number;
}

/** The one good callback: its code, and the page the browser is still waiting for. */
export interface ReceivedCallback {
  code: string;
  /** Answers the browser once the code exchange is done: the success page, or the failure. Resolves when the page is sent. */
  finish(outcome: { ok: true } | { ok: false; error: string; description?: string }): Promise<void>;
}

export interface LoopbackListener {
  port: number;
  redirectUri: string;
  /** Resolves with the one good callback; rejects on an `error` callback, a wrong `iss`, or the timeout. */
  waitForCode(expect: CallbackExpectations): Promise<ReceivedCallback>;
  close(): Promise<void>;
}

export type CallbackVerdict =
  | { kind: 'code'; code: string }
  /** Not this login's redirect (wrong state, no code): refused, and the wait goes on. */
  | { kind: 'reject'; reason: string }
  /** This login's redirect, and it ends the login: an error from the server, a wrong `iss`. */
  | { kind: 'fail'; error: OAuthFlowError; description?: string };

/**
 * Judges the parameters of a redirect to the callback (from the browser, or pasted by the
 * user): `state` must be this flow's; `iss`, when present or promised, must be the issuer
 * (RFC 9207), checked before an `error` is believed; then the `error` or the `code`.
 */
export function judgeCallback(params: URLSearchParams, expect: CallbackExpectations): CallbackVerdict {
  // RFC 6749 §3.1: parameters MUST NOT be included more than once; which of two would be believed is the attacker's choice.
  // https://www.rfc-editor.org/rfc/rfc6749.html#section-3.1
  const repeated = ['code', 'state', 'iss'].find((name) => params.getAll(name).length > 1);
  if (repeated)
    return { kind: 'reject', reason: `The redirect carries the ${repeated} parameter more than once, which OAuth forbids; it is refused.` };
  if (params.get('state') !== expect.state) {
    return { kind: 'reject', reason: 'The state parameter does not match the login in progress (a stale or forged redirect).' };
  }
  const iss = params.get('iss');
  const issuer = expect.issuer ?? expect.expectedIssuer;
  if ((iss !== null && iss !== issuer) || (expect.issuer !== undefined && iss === null)) {
    return {
      kind: 'fail',
      error: new OAuthFlowError(
        'invalid_iss',
        `the callback's iss (${iss ?? 'missing'}) is not the authorization server's issuer ${issuer ?? '(unknown)'} (RFC 9207): possible mix-up attack`,
      ),
    };
  }
  const error = params.get('error');
  if (error) {
    const description = params.get('error_description') ?? undefined;
    return {
      kind: 'fail',
      error: new OAuthFlowError(error, `the authorization server refused the login: ${error}${description ? ` (${description})` : ''}`),
      description,
    };
  }
  const code = params.get('code');
  if (!code) return { kind: 'reject', reason: 'The redirect carries no authorization code.' };
  return { kind: 'code', code };
}

/** The browser waits at most this long for the page that says how the code exchange went. */
const HOLD_PAGE_MS = 60_000;

type Reply = (status: number, html: string) => Promise<void>;

/**
 * Whether a request's `Host` is the listener's own address: `127.0.0.1:<port>` or
 * `localhost:<port>`. Anything else is a page of another site reaching the listener through a
 * name that resolves to 127.0.0.1 (DNS rebinding), which is not answered.
 * @see [RFC 8252 §8.3](https://www.rfc-editor.org/rfc/rfc8252.html#section-8.3), [RFC 9110 §7.2](https://www.rfc-editor.org/rfc/rfc9110.html#section-7.2)
 */
export function isOwnHost(host: string | undefined, port: number): boolean {
  const value = host?.toLowerCase();
  return value === `127.0.0.1:${port}` || value === `localhost:${port}`;
}

/**
 * Binds the one-shot OAuth redirect listener on 127.0.0.1 (never another interface), on
 * `port` or an ephemeral one (0). It accepts exactly one good callback, answers everything
 * else with an error page (a foreign `Host` too, see isOwnHost), and closes after success,
 * failure or the timeout. The good callback's page is sent once the code exchange is over,
 * so it tells the truth.
 */
export async function startLoopbackListener(port = 0): Promise<LoopbackListener> {
  let onRequest: ((url: URL, reply: Reply) => void) | undefined;
  const server: Server = createServer((req, res) => {
    const reply: Reply = (status, html) => {
      if (res.headersSent) return Promise.resolve();
      const sent = new Promise<void>((resolve) => {
        res.once('finish', resolve);
        res.once('close', resolve);
      });
      res.writeHead(status, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'referrer-policy': 'no-referrer',
        'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
        connection: 'close',
      });
      res.end(html);
      return sent;
    };
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://127.0.0.1');
    } catch {
      return void reply(400, rejectedPage('That is not a valid address.'));
    }
    const port = (server.address() as AddressInfo | null)?.port ?? 0;
    if (!isOwnHost(req.headers.host, port)) {
      return void reply(
        421,
        rejectedPage(
          `This listener answers only at 127.0.0.1:${port} (or localhost:${port}), not at the address this request was sent to.`,
        ),
      );
    }
    if (req.method !== 'GET' || url.pathname !== CALLBACK_PATH)
      return void reply(404, rejectedPage('This address only receives the OAuth redirect.'));
    if (!onRequest) return void reply(409, rejectedPage('No login is in progress.'));
    onRequest(url, reply);
  });
  server.on('clientError', (_error, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' || error.code === 'EACCES' ? new CallbackPortInUseError(port, { cause: error }) : error),
    );
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  let closed = false;
  let waitTimer: NodeJS.Timeout | undefined;
  const close = async () => {
    clearTimeout(waitTimer);
    if (closed) return;
    closed = true;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  const closeSoon = () => void close();

  return {
    port: bound,
    redirectUri: `http://127.0.0.1:${bound}${CALLBACK_PATH}`,
    close,
    waitForCode(expect) {
      return new Promise<ReceivedCallback>((resolve, reject) => {
        const timeoutMs = expect.timeoutMs ?? DEFAULT_CALLBACK_TIMEOUT_MS;
        const timer = setTimeout(() => {
          onRequest = undefined;
          void close();
          reject(
            new OAuthFlowError(
              'callback_timeout',
              `no login completed within ${Math.round(timeoutMs / 1000)} s; the browser window was not finished`,
            ),
          );
        }, timeoutMs);
        waitTimer = timer;
        const fail = (reply: Reply, error: OAuthFlowError, html: string, status: number) => {
          clearTimeout(timer);
          onRequest = undefined;
          void reply(status, html).then(closeSoon);
          reject(error);
        };
        onRequest = (url, reply) => {
          const verdict = judgeCallback(url.searchParams, expect);
          if (verdict.kind === 'reject') return void reply(400, rejectedPage(verdict.reason));
          if (verdict.kind === 'fail') {
            const iss = verdict.error.oauthError === 'invalid_iss';
            const html = failurePage(
              expect.serverName,
              verdict.error.oauthError,
              iss ? 'the response did not come from the expected authorization server' : verdict.description,
            );
            return fail(reply, verdict.error, html, iss ? 400 : 200);
          }
          const code = verdict.code;
          clearTimeout(timer);
          onRequest = undefined;
          let answered: Promise<void> | undefined;
          const finish: ReceivedCallback['finish'] = (outcome) => {
            if (answered) return answered;
            clearTimeout(hold);
            answered = reply(
              200,
              outcome.ok ? successPage(expect.serverName) : failurePage(expect.serverName, outcome.error, outcome.description),
            ).then(closeSoon);
            return answered;
          };
          const hold = setTimeout(() => void finish({ ok: true }), HOLD_PAGE_MS);
          hold.unref();
          resolve({ code, finish });
        };
      });
    },
  };
}
