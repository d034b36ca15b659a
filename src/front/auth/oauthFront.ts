import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type Request, type Response } from 'express';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { getOAuthProtectedResourceMetadataUrl, mcpAuthRouter } from '@modelcontextprotocol/sdk/server/auth/router.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { HttpAuthOptions } from '../../config/types.js';
import { errorMessage, type Logger } from '../../log/logger.js';
import type { FrontAuth } from '../httpFront.js';
import { PAGE_HEADERS, problemPage } from './consentPage.js';
import { FrontAuthProvider } from './frontAuthProvider.js';
import { GrantStore, type AskedFor } from './grantStore.js';
import { admitted, IdentityProvider } from './identityProvider.js';

/** The paths the OAuth front answers itself: metadata, the SDK's endpoints, consent and the identity provider's callback. */
const OWN_PATHS = /^\/(\.well-known\/|authorize$|token$|register$|revoke$|oauth\/)/;
const CALLBACK = '/oauth/callback';
const DEFAULT_TOKEN_LIFETIME_S = 3600;

/**
 * Remote use (`gateway.http.auth`): the gateway as an OAuth-protected MCP server. Its own
 * authorization server (the SDK's mcpAuthRouter on FrontAuthProvider: RFC 8414 metadata,
 * RFC 9728 protected resource metadata, dynamic registration, code + PKCE, refresh,
 * revocation) sends each login, after the consent page, to the one real identity provider
 * with the gateway's static client; back from it, the user is admitted only when
 * `gateway.http.auth.allow` names them, and every grant and refusal is an audit line.
 * `/mcp` and `/status` then need one of its access tokens (the SDK's requireBearerAuth).
 */
export async function oauthFront(options: HttpAuthOptions, base: string, trustProxy: boolean, log: Logger): Promise<FrontAuth> {
  const idp = await IdentityProvider.connect(options);
  const store = new GrantStore((options.tokenLifetime ?? DEFAULT_TOKEN_LIFETIME_S) * 1000);
  const resource = `${base}/mcp`;
  const provider = new FrontAuthProvider(store, resource);
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', trustProxy);
  app.use(mcpAuthRouter({ provider, issuerUrl: new URL(base), resourceServerUrl: new URL(resource), resourceName: 'mcp-oauth-gateway' }));
  app.post('/oauth/consent', express.urlencoded({ extended: false, limit: '4kb' }), (req: Request, res: Response) => {
    consent(req, res).catch((error: unknown) => fail(res, error));
  });
  app.get(CALLBACK, (req: Request, res: Response) => {
    callback(req, res).catch((error: unknown) => fail(res, error));
  });
  // An app of its own, so the SDK's middleware gets express's request and response.
  const guard = express();
  guard.disable('x-powered-by');
  guard.use(
    requireBearerAuth({
      verifier: provider,
      resourceMetadataUrl: getOAuthProtectedResourceMetadataUrl(new URL(resource)),
      expectedResource: new URL(resource),
    }),
  );
  log.info(`OAuth: logins go to ${idp.metadata.issuer} (client ${options.clientId}); admitted: ${options.allow.join(', ')}`);

  const fail = (res: Response, error: unknown) => {
    log.error(`OAuth login: ${errorMessage(error)}`);
    if (!res.headersSent)
      res.status(500).set(PAGE_HEADERS).send(problemPage('The login failed at the identity provider; start again from your client.'));
  };

  /** Back to the client with an error (OAuth 2.1 §4.1.2.1). */
  const refuse = (res: Response, asked: AskedFor, error: string, description: string) => {
    const target = new URL(asked.redirectUri);
    target.searchParams.set('error', error);
    target.searchParams.set('error_description', description);
    if (asked.state !== undefined) target.searchParams.set('state', asked.state);
    res.redirect(302, target.href);
  };

  async function consent(req: Request, res: Response): Promise<void> {
    const body = req.body as { login?: string; decision?: string };
    const pending = store.pendingLogin(body.login ?? '');
    if (!pending) return void res.status(400).set(PAGE_HEADERS).send(problemPage('This login is unknown, expired or already answered.'));
    if (body.decision !== 'approve') {
      store.pendingLogin(body.login!, { take: true });
      log.info(`audit: ${clientName(pending.client)} was denied at the consent page`);
      return refuse(res, pending.asked, 'access_denied', 'the user denied access');
    }
    // The login's id is the identity provider's `state`; its PKCE verifier stays here.
    const { url, verifier } = await idp.authorizationUrl(`${base}${CALLBACK}`, body.login!);
    pending.verifier = verifier;
    res.redirect(302, url.href);
  }

  async function callback(req: Request, res: Response): Promise<void> {
    const query = req.query as Record<string, string | undefined>;
    const pending = store.pendingLogin(query.state ?? '', { take: true });
    if (!pending?.verifier)
      return void res
        .status(400)
        .set(PAGE_HEADERS)
        .send(problemPage('This login is unknown, expired or already used; start again from your client.'));
    const { client, asked } = pending;
    if (query.error)
      return refuse(
        res,
        asked,
        query.error === 'access_denied' ? 'access_denied' : 'server_error',
        'the identity provider refused the login',
      );
    idp.checkIssuer(query.iss);
    const user = await idp.identify(query.code ?? '', pending.verifier, `${base}${CALLBACK}`);
    const who = user.emails[0] ?? `subject ${user.subject}`;
    if (!admitted(user, options.allow)) {
      log.warn(`audit: refused ${who} (subject ${user.subject}) for ${clientName(client)}: not in gateway.http.auth.allow`);
      return refuse(res, asked, 'access_denied', 'this user may not use this gateway');
    }
    const grant = { clientId: client.client_id, user, scopes: asked.scopes, resource };
    log.info(`audit: granted ${clientName(client)} to ${who} (subject ${user.subject}), scopes ${asked.scopes.join(' ') || '(none)'}`);
    const target = new URL(asked.redirectUri);
    target.searchParams.set('code', store.issueCode(grant, asked));
    if (asked.state !== undefined) target.searchParams.set('state', asked.state);
    res.redirect(302, target.href);
  }

  return {
    route(req: IncomingMessage, res: ServerResponse, path: string): boolean {
      if (!OWN_PATHS.test(path)) return false;
      app(req as Request, res as Response);
      return true;
    },
    authorize(req: IncomingMessage, res: ServerResponse): Promise<AuthInfo | undefined> {
      return new Promise((resolve) => {
        res.once('finish', () => resolve(undefined));
        // requireBearerAuth answers a refusal itself (401 with WWW-Authenticate naming the resource metadata).
        guard(req as Request, res as Response, (error?: unknown) => resolve(error ? undefined : (req as Request).auth));
      });
    },
  };
}

const clientName = (client: { client_id: string; client_name?: string }) =>
  `client "${client.client_name ?? '(unnamed)'}" (${client.client_id})`;
