import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { failurePage, rejectedPage, successPage } from './callbackPages.js';
import { OAuthFlowError } from './oauthErrors.js';

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

export class CallbackPortInUseError extends Error {
  constructor(readonly port: number) {
    super(`the OAuth callback port 127.0.0.1:${port} is in use by another program`);
    this.name = 'CallbackPortInUseError';
  }
}

/** The browser waits at most this long for the page that says how the code exchange went. */
const HOLD_PAGE_MS = 60_000;

type Reply = (status: number, html: string) => Promise<void>;

/**
 * Binds the one-shot OAuth redirect listener on 127.0.0.1 (never another interface), on
 * `port` or an ephemeral one (0). It accepts exactly one good callback, answers everything
 * else with an error page, and closes after success, failure or the timeout. The good
 * callback's page is sent once the code exchange is over, so it tells the truth.
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
    if (req.method !== 'GET' || url.pathname !== CALLBACK_PATH) return void reply(404, rejectedPage('This address only receives the OAuth redirect.'));
    if (!onRequest) return void reply(409, rejectedPage('No login is in progress.'));
    onRequest(url, reply);
  });
  server.on('clientError', (_error, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' || error.code === 'EACCES' ? new CallbackPortInUseError(port) : error),
    );
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  let closed = false;
  const close = async () => {
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
          reject(new OAuthFlowError('callback_timeout', `no login completed within ${Math.round(timeoutMs / 1000)} s; the browser window was not finished`));
        }, timeoutMs);
        const fail = (reply: Reply, error: OAuthFlowError, html: string, status: number) => {
          clearTimeout(timer);
          onRequest = undefined;
          void reply(status, html).then(closeSoon);
          reject(error);
        };
        onRequest = (url, reply) => {
          const params = url.searchParams;
          if (params.get('state') !== expect.state) {
            return void reply(400, rejectedPage('The state parameter does not match the login in progress (a stale or forged redirect).'));
          }
          // RFC 9207: an iss that is present must be the issuer; one the server promised must be present.
          const iss = params.get('iss');
          const issuer = expect.issuer ?? expect.expectedIssuer;
          if ((iss !== null && iss !== issuer) || (expect.issuer !== undefined && iss === null)) {
            return fail(
              reply,
              new OAuthFlowError('invalid_iss', `the callback's iss (${iss ?? 'missing'}) is not the authorization server's issuer ${issuer ?? '(unknown)'} (RFC 9207): possible mix-up attack`),
              failurePage(expect.serverName, 'invalid_iss', 'the response did not come from the expected authorization server'),
              400,
            );
          }
          const error = params.get('error');
          if (error) {
            const description = params.get('error_description') ?? undefined;
            return fail(
              reply,
              new OAuthFlowError(error, `the authorization server refused the login: ${error}${description ? ` (${description})` : ''}`),
              failurePage(expect.serverName, error, description),
              200,
            );
          }
          const code = params.get('code');
          if (!code) return void reply(400, rejectedPage('The redirect carries no authorization code.'));
          clearTimeout(timer);
          onRequest = undefined;
          let answered: Promise<void> | undefined;
          const finish: ReceivedCallback['finish'] = (outcome) => {
            if (answered) return answered;
            clearTimeout(hold);
            answered = reply(200, outcome.ok ? successPage(expect.serverName) : failurePage(expect.serverName, outcome.error, outcome.description)).then(closeSoon);
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
