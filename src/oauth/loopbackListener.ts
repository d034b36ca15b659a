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
  timeoutMs?: number;
}

export interface LoopbackListener {
  port: number;
  redirectUri: string;
  /** Resolves with the authorization code of the one good callback; rejects on error or timeout. */
  waitForCode(expect: CallbackExpectations): Promise<string>;
  close(): Promise<void>;
}

export class CallbackPortInUseError extends Error {
  constructor(readonly port: number) {
    super(`the OAuth callback port 127.0.0.1:${port} is in use by another program`);
    this.name = 'CallbackPortInUseError';
  }
}

/**
 * Binds the one-shot OAuth redirect listener on 127.0.0.1 (never another interface), on
 * `port` or an ephemeral one (0). It accepts exactly one good callback, answers everything
 * else with an error page, and closes after success, failure or the timeout.
 */
export async function startLoopbackListener(port = 0): Promise<LoopbackListener> {
  let onRequest: ((url: URL) => { status: number; html: string }) | undefined;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const answer =
      req.method !== 'GET' || url.pathname !== CALLBACK_PATH
        ? { status: 404, html: rejectedPage('This address only receives the OAuth redirect.') }
        : onRequest
          ? onRequest(url)
          : { status: 409, html: rejectedPage('No login is in progress.') };
    res.writeHead(answer.status, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
      connection: 'close',
    });
    res.end(answer.html);
  });
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

  return {
    port: bound,
    redirectUri: `http://127.0.0.1:${bound}${CALLBACK_PATH}`,
    close,
    waitForCode(expect) {
      return new Promise<string>((resolve, reject) => {
        const timeoutMs = expect.timeoutMs ?? DEFAULT_CALLBACK_TIMEOUT_MS;
        const timer = setTimeout(() => {
          onRequest = undefined;
          void close();
          reject(new OAuthFlowError('callback_timeout', `no login completed within ${Math.round(timeoutMs / 1000)} s; the browser window was not finished`));
        }, timeoutMs);
        const settle = (fn: () => void) => {
          clearTimeout(timer);
          onRequest = undefined;
          // Let the page reach the browser before the listener goes away.
          setTimeout(() => void close(), 50);
          fn();
        };
        onRequest = (url) => {
          const params = url.searchParams;
          if (params.get('state') !== expect.state) {
            return { status: 400, html: rejectedPage('The state parameter does not match the login in progress (a stale or forged redirect).') };
          }
          const error = params.get('error');
          if (error) {
            const description = params.get('error_description') ?? undefined;
            settle(() => reject(new OAuthFlowError(error, `the authorization server refused the login: ${error}${description ? ` (${description})` : ''}`)));
            return { status: 200, html: failurePage(expect.serverName, error, description) };
          }
          if (expect.issuer !== undefined && params.get('iss') !== expect.issuer) {
            const got = params.get('iss');
            settle(() =>
              reject(new OAuthFlowError('invalid_iss', `the callback's iss (${got ?? 'missing'}) is not the authorization server's issuer ${expect.issuer} (RFC 9207): possible mix-up attack`)),
            );
            return { status: 400, html: failurePage(expect.serverName, 'invalid_iss', 'the response did not come from the expected authorization server') };
          }
          const code = params.get('code');
          if (!code) return { status: 400, html: rejectedPage('The redirect carries no authorization code.') };
          settle(() => resolve(code));
          return { status: 200, html: successPage(expect.serverName) };
        };
      });
    },
  };
}
