import type { Response } from 'express';
import type { OAuthRegisteredClientsStore } from '@modelcontextprotocol/sdk/server/auth/clients.js';
import {
  InvalidGrantError,
  InvalidScopeError,
  InvalidTargetError,
  InvalidTokenError,
} from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type { AuthorizationParams, OAuthServerProvider } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { OAuthClientInformationFull, OAuthTokenRevocationRequest, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { consentPage, PAGE_HEADERS } from './consentPage.js';
import type { Grant, GrantStore } from './grantStore.js';

/**
 * The gateway's own authorization server, on the SDK's OAuthServerProvider interface (the
 * SDK's mcpAuthRouter serves its endpoints, metadata and registration, and checks PKCE):
 * clients register dynamically (RFC 7591), `authorize` shows the consent page (the login then
 * goes to the identity provider, see oauthFront.ts), and the codes and tokens it issues are
 * its own, bound to this gateway as their one resource (RFC 8707), refreshed with rotation and
 * revocable (RFC 7009). The identity provider's tokens never leave the gateway.
 */
export class FrontAuthProvider implements OAuthServerProvider {
  constructor(
    private readonly store: GrantStore,
    /** The gateway's MCP endpoint, the only resource its tokens are for. */
    private readonly resource: string,
  ) {}

  get clientsStore(): OAuthRegisteredClientsStore {
    return {
      getClient: (id) => this.store.client(id),
      registerClient: (client) => this.store.addClient(client as OAuthClientInformationFull),
    };
  }

  authorize(client: OAuthClientInformationFull, params: AuthorizationParams, res: Response): Promise<void> {
    const resource = this.checkResource(params.resource?.href);
    const asked = {
      redirectUri: params.redirectUri,
      codeChallenge: params.codeChallenge,
      state: params.state,
      scopes: params.scopes ?? [],
      resource,
    };
    const login = this.store.begin(client, asked);
    res
      .status(200)
      .set(PAGE_HEADERS)
      .send(consentPage(client, login, params.redirectUri, this.resource, asked.scopes));
    return Promise.resolve();
  }

  challengeForAuthorizationCode(client: OAuthClientInformationFull, code: string): Promise<string> {
    const grant = this.store.code(code, client.client_id);
    if (!grant) return Promise.reject(new InvalidGrantError("the authorization code is unknown, expired or not this client's"));
    return Promise.resolve(grant.asked.codeChallenge);
  }

  exchangeAuthorizationCode(
    client: OAuthClientInformationFull,
    code: string,
    _verifier?: string,
    redirectUri?: string,
    resource?: URL,
  ): Promise<OAuthTokens> {
    const grant = this.store.code(code, client.client_id, { take: true });
    if (!grant) return Promise.reject(new InvalidGrantError("the authorization code is unknown, expired, used or not this client's"));
    // OAuth 2.1 §4.1.3: the redirect_uri of the authorization request, when it named one.
    if (redirectUri !== grant.asked.redirectUri)
      return Promise.reject(new InvalidGrantError('redirect_uri does not match the authorization request'));
    this.checkResource(resource?.href);
    return Promise.resolve(this.tokens(grant));
  }

  exchangeRefreshToken(client: OAuthClientInformationFull, refreshToken: string, scopes?: string[], resource?: URL): Promise<OAuthTokens> {
    this.checkResource(resource?.href);
    const grant = this.store.useRefreshToken(refreshToken, client.client_id);
    if (!grant) return Promise.reject(new InvalidGrantError("the refresh token is unknown, expired, revoked or not this client's"));
    // A refresh may narrow the scopes, never widen them (RFC 6749 §6).
    if (scopes?.some((scope) => !grant.scopes.includes(scope)))
      return Promise.reject(new InvalidScopeError('more scopes than were granted'));
    return Promise.resolve(this.tokens({ ...grant, scopes: scopes ?? grant.scopes }, grant.chain));
  }

  verifyAccessToken(token: string): Promise<AuthInfo> {
    const grant = this.store.accessToken(token);
    if (!grant) return Promise.reject(new InvalidTokenError('the access token is unknown, expired or revoked'));
    return Promise.resolve({
      token,
      clientId: grant.clientId,
      scopes: grant.scopes,
      expiresAt: Math.floor(grant.expiresAt / 1000),
      resource: new URL(grant.resource),
      extra: { user: grant.user.emails[0] ?? grant.user.subject },
    });
  }

  revokeToken(client: OAuthClientInformationFull, request: OAuthTokenRevocationRequest): Promise<void> {
    this.store.revoke(request.token, client.client_id);
    return Promise.resolve();
  }

  /** The only resource there is; a request naming another is refused (RFC 8707 §2: invalid_target). */
  private checkResource(resource: string | undefined): string {
    if (resource !== undefined && resource.replace(/\/$/, '') !== this.resource)
      throw new InvalidTargetError(`this server's resource is ${this.resource}`);
    return this.resource;
  }

  private tokens(grant: Grant, chain?: string): OAuthTokens {
    const { access, refresh, expiresIn } = this.store.issueTokens(grant, chain);
    return {
      access_token: access,
      token_type: 'Bearer',
      expires_in: expiresIn,
      refresh_token: refresh,
      ...(grant.scopes.length ? { scope: grant.scopes.join(' ') } : {}),
    };
  }
}
