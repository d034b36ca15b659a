import { parseErrorResponse } from '@modelcontextprotocol/sdk/client/auth.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { registerSecret } from '../../log/redact.js';
import { UnsafeAuthorizationServerError } from '../../shared/errors.js';
import {
  applyClientAuthentication,
  chooseClientAuthMethod,
  type AuthenticatingClient,
  type ClientAssertionSigner,
} from '../clientAuthentication.js';
import { ID_JAG_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT } from './identityGrants.js';

/** One token exchange for an ID-JAG: the identity provider's token endpoint, the subject, the target, the client. */
export interface IdJagRequest {
  tokenEndpoint: string;
  /** The ID token (or, per the draft, the IdP's refresh token) the exchange is for. */
  subjectToken: string;
  subjectTokenType: string;
  /** The issuer identifier of the server's authorization server. */
  audience: string;
  /** The server's resource identifier (RFC 8707 / RFC 9728). */
  resource?: string;
  scope?: string;
  client: AuthenticatingClient;
  /** The IdP's `token_endpoint_auth_methods_supported`, for chooseClientAuthMethod. */
  authMethods?: string[];
  sign?: ClientAssertionSigner;
  /** The IdP's metadata, for a client assertion's audience. */
  metadata?: Parameters<ClientAssertionSigner>[3];
  fetchFn: FetchLike;
}

/** What the identity provider issued: the ID-JAG (never stored, only redeemed) and what it grants. */
export interface IssuedIdJag {
  assertion: string;
  scope?: string;
  expiresIn?: number;
}

/**
 * The token exchange request for an ID-JAG at the identity provider (RFC 8693 §2.1, ID-JAG
 * §4.3): `requested_token_type` id-jag, `audience` the authorization server's issuer,
 * `resource` the MCP server, the subject token, and client authentication as the one chooser
 * decides (the profile requires it where the IdP authenticates the client at sign-in). A refusal
 * is thrown as the SDK's OAuthError subclass for its `error` (access_denied, invalid_target,
 * invalid_grant…), for the caller to explain; an answer that is not an ID-JAG is refused.
 * @see [RFC 8693 §2.1, §2.2](https://www.rfc-editor.org/rfc/rfc8693.html#section-2.1), [ID-JAG §4.3](https://www.ietf.org/archive/id/draft-ietf-oauth-identity-assertion-authz-grant-04.html#section-4.3), [MCP Enterprise-Managed Authorization §4](https://github.com/modelcontextprotocol/ext-auth/blob/main/specification/stable/enterprise-managed-authorization.mdx)
 */
export async function exchangeForIdJag(request: IdJagRequest): Promise<IssuedIdJag> {
  const body = new URLSearchParams({
    grant_type: TOKEN_EXCHANGE_GRANT,
    requested_token_type: ID_JAG_TOKEN_TYPE,
    audience: request.audience,
    subject_token: request.subjectToken,
    subject_token_type: request.subjectTokenType,
  });
  if (request.resource) body.set('resource', request.resource);
  if (request.scope) body.set('scope', request.scope);
  const headers = new Headers({ 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' });
  const method = chooseClientAuthMethod(request.client, request.authMethods, Boolean(request.sign));
  await applyClientAuthentication(
    method,
    request.client,
    { headers, body, url: request.tokenEndpoint, metadata: request.metadata },
    request.sign,
  );
  const response = await request.fetchFn(request.tokenEndpoint, { method: 'POST', headers, body });
  if (!response.ok) throw await parseErrorResponse(response);
  return readIssuedIdJag(await response.json().catch(() => undefined), request.tokenEndpoint);
}

/**
 * The exchange's answer (RFC 8693 §2.2.1, ID-JAG §4.3.4): `issued_token_type` must be the
 * id-jag type and `access_token` the grant (a JWT); anything else is not what was asked for.
 * @see [RFC 8693 §2.2.1](https://www.rfc-editor.org/rfc/rfc8693.html#section-2.2.1), [ID-JAG §4.3.4](https://www.ietf.org/archive/id/draft-ietf-oauth-identity-assertion-authz-grant-04.html#section-4.3.4)
 */
export function readIssuedIdJag(answer: unknown, tokenEndpoint: string): IssuedIdJag {
  const fields = (typeof answer === 'object' && answer !== null ? answer : {}) as Record<string, unknown>;
  const grant = fields.access_token;
  if (typeof grant === 'string') registerSecret(grant);
  if (fields.issued_token_type !== ID_JAG_TOKEN_TYPE) {
    throw new UnsafeAuthorizationServerError(
      `the identity provider's token exchange at ${tokenEndpoint} answered issued_token_type ${JSON.stringify(fields.issued_token_type)}, not ${ID_JAG_TOKEN_TYPE}`,
    );
  }
  if (typeof grant !== 'string' || grant.split('.').length !== 3) {
    throw new UnsafeAuthorizationServerError(
      `the identity provider's token exchange at ${tokenEndpoint} answered no ID-JAG (a signed JWT) in access_token`,
    );
  }
  return {
    assertion: grant,
    ...(typeof fields.scope === 'string' ? { scope: fields.scope } : {}),
    ...(typeof fields.expires_in === 'number' ? { expiresIn: fields.expires_in } : {}),
  };
}
