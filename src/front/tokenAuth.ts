import type { IncomingMessage, ServerResponse } from 'node:http';
import { AccessTokenCheck, bearerToken } from './accessToken.js';
import type { FrontAuth } from './httpFront.js';
import { sendJson } from './httpAnswers.js';

const REALM = 'mcp-oauth-gateway';

/**
 * Local use: every request carries the gateway's own token (`gateway http-token`). A request
 * without it, or with another, is a 401 whose `WWW-Authenticate` names the scheme (with
 * `error="invalid_token"` when a token was sent, RFC 6750 §3.1) and nothing else: no hint
 * of what is behind.
 */
export function localTokenAuth(check: AccessTokenCheck): FrontAuth {
  return {
    authorize(req: IncomingMessage, res: ServerResponse) {
      const presented = bearerToken(req.headers.authorization);
      if (check.matches(presented)) return { token: 'local', clientId: 'local', scopes: [] };
      const challenge =
        presented === undefined && !req.headers.authorization
          ? `Bearer realm="${REALM}"`
          : `Bearer realm="${REALM}", error="invalid_token"`;
      sendJson(res, 401, { error: 'unauthorized' }, { 'www-authenticate': challenge });
      return undefined;
    },
  };
}

/** With OAuth: `/status` also takes the local token, so `gateway list` on this machine still sees the sessions. */
export function withLocalStatus(auth: FrontAuth, check: AccessTokenCheck): FrontAuth {
  return {
    route: auth.route?.bind(auth),
    authorize(req, res, path) {
      if (path === '/status' && check.matches(bearerToken(req.headers.authorization)))
        return { token: 'local', clientId: 'local', scopes: [] };
      return auth.authorize(req, res, path);
    },
  };
}
