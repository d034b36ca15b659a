import { EventEmitter } from 'node:events';
import type { OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONWebKeySet } from 'jose';
import type { IdentityProviderConfig, OAuthServerConfig } from '../../config/types.js';
import { registerSecret } from '../../log/redact.js';
import {
  IdTokenInvalidError,
  IdentitySignInRequiredError,
  TransientAuthError,
  UnsafeAuthorizationServerError,
} from '../../shared/errors.js';
import type { PasteReader } from '../pastedCode.js';
import { NetworkPolicy } from '../networkPolicy.js';
import { createOAuthFetch } from '../oauthFetch.js';
import { privateKeyJwtSigner } from '../privateKeyJwt.js';
import { ServerAuth } from '../serverAuth.js';
import type { ServerAuthOptions } from '../serverAuthOptions.js';
import type { StoredTokens } from '../tokenStore.js';
import { idTokenExpiry, idTokenTimes, verifyIdToken } from './idTokenChecks.js';
import { expiresSoon } from '../tokenTiming.js';

/** What the identity provider session needs besides its config: as for a server's ServerAuth. */
export type IdentityProviderOptions = Pick<
  ServerAuthOptions,
  'store' | 'log' | 'noBrowser' | 'headless' | 'callbackTimeoutMs' | 'presentLoginUrl' | 'env'
>;

/** The name the identity provider goes by in logs and messages. */
export const IDENTITY_PROVIDER_NAME = 'identity-provider';
/** An ID token is renewed when it expires within this margin (an exchange must not present a token that dies on the way). */
const ID_TOKEN_MARGIN_MS = 60_000;

/**
 * The user's sign-in at the enterprise identity provider, one per gateway process and shared by
 * every server (Enterprise-Managed Authorization §3): an OpenID Connect authorization code
 * login with PKCE and a `nonce`, run by a ServerAuth of its own (the same browser, paste,
 * elicitation and device machinery, the same launch limit), whose tokens are kept in the token
 * store under the issuer (same modes, same cross-process lock, redaction), so the sign-in
 * survives restarts and is shared by every gateway process. Every ID token received is
 * validated before it is stored (see verifyIdToken); the stored expiry is the earlier of the
 * access token's and the ID token's, so the session is refreshed (with the IdP's refresh token)
 * before the ID token dies. An ID token the host hands over (`identityProvider.idToken`,
 * `MCP_GATEWAY_ID_TOKEN`) replaces the sign-in.
 * @see [MCP Enterprise-Managed Authorization §3](https://github.com/modelcontextprotocol/ext-auth/blob/main/specification/stable/enterprise-managed-authorization.mdx), [OpenID Connect Core §3.1](https://openid.net/specs/openid-connect-core-1_0.html#CodeFlowAuth)
 */
export class IdentityProvider extends EventEmitter<{ 'login-url': [string] }> {
  readonly auth: ServerAuth;
  /** Requests to the IdP (discovery, JWKS, token exchange) reach only the network the config points to. */
  readonly fetchFn: FetchLike;
  private signingIn?: Promise<string>;

  constructor(
    readonly config: IdentityProviderConfig,
    private readonly options: IdentityProviderOptions,
  ) {
    super();
    for (const secret of [config.clientSecret, config.privateKey, config.idToken]) registerSecret(secret);
    this.fetchFn = createOAuthFetch(undefined, { network: new NetworkPolicy([config.issuer, config.tokenEndpoint]) });
    this.auth = new ServerAuth({
      ...options,
      name: IDENTITY_PROVIDER_NAME,
      url: config.issuer,
      oauth: this.oauth,
      loginCommand: 'gateway auth login --idp',
      openId: { check: (tokens, nonce) => this.checked(tokens, nonce) },
    });
    this.auth.on('login-url', (url) => this.emit('login-url', url));
  }

  /** The IdP as a server's `oauth` block: its client, its sign-in scopes, its discovery document, no RFC 8707 resource. */
  get oauth(): OAuthServerConfig {
    const { clientId, clientSecret, privateKey, privateKeyFile, privateKeyAlg, scopes, callbackPort } = this.config;
    return {
      clientId,
      scopes,
      resource: false,
      authServerMetadataUrl: discoveryUrl(this.config.issuer),
      ...(clientSecret ? { clientSecret } : {}),
      ...(privateKey ? { privateKey } : {}),
      ...(privateKeyFile ? { privateKeyFile } : {}),
      ...(privateKeyAlg ? { privateKeyAlg } : {}),
      ...(callbackPort ? { callbackPort } : {}),
    };
  }

  /** An ID token the host handed over (config, else MCP_GATEWAY_ID_TOKEN): no sign-in of the gateway's own then. */
  get givenIdToken(): string | undefined {
    const given = this.config.idToken ?? (this.options.env ?? process.env).MCP_GATEWAY_ID_TOKEN;
    registerSecret(given);
    return given || undefined;
  }

  /**
   * A current ID token for a token exchange: the given one (refused when expired), else the
   * session's, refreshed when due. Without one, an interactive caller signs in (one sign-in for
   * every caller in this process, and under the store lock for every process); any other gets
   * IdentitySignInRequiredError. `stale`: an ID token the IdP refused, which is not used again.
   */
  async idToken({ interactive, stale }: { interactive: boolean; stale?: string }): Promise<string> {
    const given = this.givenIdToken;
    if (given) return checkGivenToken(given, this.config.idToken ? 'gateway.identityProvider.idToken' : 'MCP_GATEWAY_ID_TOKEN');
    const current = await this.sessionToken(stale);
    if (current) return current;
    if (!interactive || this.options.headless) throw new IdentitySignInRequiredError(signInNeeded(this.options.headless));
    this.signingIn ??= this.signIn().finally(() => {
      this.signingIn = undefined;
    });
    return this.signingIn;
  }

  /** `gateway auth login --idp`, or a sign-in a server needs: the code flow at the IdP; the ID token it brings. */
  async signIn({ force = false, paste }: { force?: boolean; paste?: PasteReader } = {}): Promise<string> {
    await this.auth.login({ force, paste });
    const token = this.auth.tokens?.id_token;
    if (!token)
      throw new IdTokenInvalidError(
        'the identity provider signed the user in but sent no ID token; check that "openid" is among identityProvider.scopes',
      );
    return token;
  }

  /** `gateway auth login --idp --device`: the device flow at the IdP, where it offers one. */
  signInOnDevice(show: (text: string) => void): Promise<void> {
    return this.auth.deviceLogin(show);
  }

  /** The stored session's ID token if it is good for a while yet, refreshing the session first when due (or when `stale`). */
  private async sessionToken(stale: string | undefined): Promise<string | undefined> {
    await this.auth.reload();
    const held = this.auth.tokens;
    const due = held && (held.id_token === stale || expiresSoon(held) || !fresh(held.id_token));
    const renewed = due ? await this.auth.refresh(held.access_token) : held;
    const token = renewed?.id_token;
    return token && token !== stale && fresh(token) ? token : undefined;
  }

  /**
   * The IdP's discovery (its token endpoint, JWKS, auth methods); with `tokenEndpoint`
   * configured and no discovery document, that endpoint alone.
   */
  async discovery(): Promise<OAuthDiscoveryState> {
    try {
      return await this.auth.discovery();
    } catch (error) {
      const tokenEndpoint = this.config.tokenEndpoint;
      if (!tokenEndpoint || error instanceof TransientAuthError) throw error;
      return { authorizationServerUrl: this.config.issuer, authorizationServerMetadata: undefined };
    }
  }

  /** The token endpoint of the exchange: configured, else the discovered one. */
  async tokenEndpoint(): Promise<{ url: string; metadata?: OAuthDiscoveryState['authorizationServerMetadata'] }> {
    if (this.config.tokenEndpoint && this.givenIdToken) return { url: this.config.tokenEndpoint };
    const { authorizationServerMetadata: metadata } = await this.discovery();
    const url = this.config.tokenEndpoint ?? metadata?.token_endpoint;
    if (!url)
      throw new UnsafeAuthorizationServerError(
        `the identity provider ${this.config.issuer} publishes no token_endpoint; set identityProvider.tokenEndpoint`,
      );
    return { url, metadata };
  }

  /** The IdP's client as it authenticates at the token endpoint (a signed assertion when a key is configured). */
  client() {
    const { clientId, clientSecret } = this.config;
    const sign = privateKeyJwtSigner(this.oauth);
    return { client: { client_id: clientId, ...(clientSecret && !sign ? { client_secret: clientSecret } : {}) }, sign };
  }

  /**
   * Tokens from the IdP (a sign-in, a refresh) before they are stored: the ID token validated
   * (signature by the published keys, issuer, audience, expiry, and the sign-in's nonce), and
   * the session's expiry brought forward to the ID token's. A refresh without a new ID token
   * keeps the session's expiry at the old one's, so the next use signs in again.
   * @see [OpenID Connect Core §3.1.3.7](https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation), [§12.2](https://openid.net/specs/openid-connect-core-1_0.html#RefreshTokenResponse)
   */
  private async checked(tokens: StoredTokens, nonce: string | undefined): Promise<StoredTokens> {
    const idToken = tokens.id_token ?? this.auth.tokens?.id_token;
    if (!idToken) return tokens;
    if (tokens.id_token) {
      const { authorizationServerMetadata: metadata } = await this.discovery();
      const issuer = metadata?.issuer ?? this.config.issuer;
      await verifyIdToken(idToken, await this.jwks(metadata?.jwks_uri), { issuer, clientId: this.config.clientId, nonce });
    }
    const idExpiry = idTokenExpiry(idToken);
    const expires_at = Math.min(tokens.expires_at ?? Infinity, idExpiry ?? Infinity);
    return { ...tokens, id_token: idToken, ...(Number.isFinite(expires_at) ? { expires_at } : {}) };
  }

  /** The IdP's signing keys (fetched at each validation: sign-ins and refreshes are rare, and keys rotate). */
  private async jwks(jwksUri: unknown): Promise<JSONWebKeySet> {
    if (typeof jwksUri !== 'string')
      throw new UnsafeAuthorizationServerError(
        `the identity provider ${this.config.issuer} publishes no jwks_uri: its ID tokens cannot be checked`,
      );
    const response = await this.fetchFn(jwksUri, { headers: { accept: 'application/json' } });
    const keys = (await response.json().catch(() => undefined)) as JSONWebKeySet | undefined;
    if (!response.ok || !Array.isArray(keys?.keys))
      throw new TransientAuthError(`the identity provider's keys at ${jwksUri} could not be read (HTTP ${response.status})`);
    return keys;
  }

  async close(): Promise<void> {
    await this.auth.close();
  }
}

/** OpenID Connect discovery: `/.well-known/openid-configuration` appended to the issuer. */
export function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
}

/** Whether an ID token is good for a while yet: the margin is a minute, or a quarter of a shorter lifetime (as for access tokens). */
function fresh(idToken: string | undefined, now = Date.now()): boolean {
  if (!idToken) return false;
  const { expiresAt, issuedAt } = idTokenTimes(idToken);
  if (expiresAt === undefined) return true;
  const lifetime = issuedAt === undefined ? Infinity : expiresAt - issuedAt;
  return expiresAt - now > Math.min(ID_TOKEN_MARGIN_MS, lifetime / 4);
}

function checkGivenToken(token: string, source: string): string {
  const expiry = idTokenExpiry(token);
  if (expiry !== undefined && expiry <= Date.now()) {
    throw new IdTokenInvalidError(
      `the ID token in ${source} expired at ${new Date(expiry).toISOString()}; hand the gateway a fresh one (or remove it to sign in)`,
    );
  }
  return token;
}

function signInNeeded(headless: boolean | undefined): string {
  return headless
    ? 'the identity provider sign-in has expired and this gateway runs headless (--headless); run `gateway auth login --idp` where a browser is, then move the login here (`gateway auth export`), or hand the gateway an ID token in MCP_GATEWAY_ID_TOKEN'
    : 'the identity provider sign-in has expired; the gateway signs in again when a server is next used (or run `gateway auth login --idp`)';
}
