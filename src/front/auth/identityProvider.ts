import { discoverAuthorizationServerMetadata, exchangeAuthorization, startAuthorization } from '@modelcontextprotocol/sdk/client/auth.js';
import type { AuthorizationServerMetadata } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { HttpAuthOptions } from '../../config/types.js';
import { FrontIdentityProviderError, OAuthFlowError } from '../../shared/errors.js';
import type { Identity } from './grantStore.js';

type Metadata = AuthorizationServerMetadata & { userinfo_endpoint?: string; authorization_response_iss_parameter_supported?: boolean };

const GOOGLE_ISSUER = 'https://accounts.google.com';

/** GitHub publishes no metadata (and is not OpenID): its OAuth app endpoints, as documented. */
const GITHUB: Metadata = {
  issuer: 'https://github.com',
  authorization_endpoint: 'https://github.com/login/oauth/authorize',
  token_endpoint: 'https://github.com/login/oauth/access_token',
  response_types_supported: ['code'],
  code_challenge_methods_supported: ['S256'],
  token_endpoint_auth_methods_supported: ['client_secret_post'],
};
const GITHUB_API = 'https://api.github.com';

const DEFAULT_SCOPES = { oidc: ['openid', 'email'], google: ['openid', 'email'], github: ['read:user', 'user:email'] };

/**
 * The real identity provider behind the OAuth front, reached with its one static client:
 * metadata by discovery (RFC 8414 / OpenID Connect Discovery) or a preset, the authorization
 * request with PKCE, the code exchange, and who the user is (OpenID Connect's UserInfo
 * endpoint, https://openid.net/specs/openid-connect-core-1_0.html#UserInfo; GitHub's user API).
 */
export class IdentityProvider {
  private constructor(
    readonly metadata: Metadata,
    private readonly options: HttpAuthOptions,
  ) {}

  static async connect(options: HttpAuthOptions): Promise<IdentityProvider> {
    if (options.provider === 'github') return new IdentityProvider(GITHUB, options);
    const issuer = options.issuer ?? GOOGLE_ISSUER;
    const metadata = (await discoverAuthorizationServerMetadata(issuer)) as Metadata | undefined;
    if (!metadata)
      throw new FrontIdentityProviderError(
        `gateway.http.auth: no authorization server metadata at ${issuer} (unreachable, or none published); check gateway.http.auth.issuer`,
      );
    if (!metadata.userinfo_endpoint)
      throw new FrontIdentityProviderError(`gateway.http.auth: ${issuer} names no userinfo_endpoint, so who logs in cannot be known`);
    return new IdentityProvider(metadata, options);
  }

  private get client() {
    return { client_id: this.options.clientId, client_secret: this.options.clientSecret };
  }

  /** Where to send the user: the provider's authorization endpoint, with `state` and a fresh PKCE verifier. */
  async authorizationUrl(redirectUri: string, state: string): Promise<{ url: URL; verifier: string }> {
    const scope = (this.options.scopes ?? DEFAULT_SCOPES[this.options.provider]).join(' ');
    const { authorizationUrl, codeVerifier } = await startAuthorization(this.metadata.issuer, {
      metadata: this.metadata,
      clientInformation: this.client,
      redirectUrl: redirectUri,
      scope,
      state,
    });
    return { url: authorizationUrl, verifier: codeVerifier };
  }

  /**
   * The authorization response's `iss`, when the provider sends one, must be its issuer
   * (RFC 9207 §2.4); one that says it sends `iss` must send it.
   */
  checkIssuer(iss: string | undefined): void {
    const expected = this.metadata.issuer;
    if (iss === undefined ? this.metadata.authorization_response_iss_parameter_supported : iss !== expected)
      throw new OAuthFlowError('invalid_iss', `the identity provider's answer names issuer ${iss ?? '(none)'}, not ${expected}`);
  }

  /** The code exchanged for the provider's access token, then the user it belongs to. */
  async identify(code: string, verifier: string, redirectUri: string): Promise<Identity> {
    const tokens = await exchangeAuthorization(this.metadata.issuer, {
      metadata: this.metadata,
      clientInformation: this.client,
      authorizationCode: code,
      codeVerifier: verifier,
      redirectUri,
    });
    return this.options.provider === 'github' ? githubUser(tokens.access_token) : this.userinfo(tokens.access_token);
  }

  private async userinfo(accessToken: string): Promise<Identity> {
    const claims = await getJson<{ sub?: unknown; email?: unknown; email_verified?: unknown; name?: unknown }>(
      this.metadata.userinfo_endpoint!,
      accessToken,
    );
    if (typeof claims.sub !== 'string' || !claims.sub)
      throw new FrontIdentityProviderError("the identity provider's UserInfo answer has no sub");
    // Only an address the provider says it verified stands for the user.
    const emails = typeof claims.email === 'string' && claims.email_verified === true ? [claims.email.toLowerCase()] : [];
    return { subject: claims.sub, emails, ...(typeof claims.name === 'string' ? { name: claims.name } : {}) };
  }
}

async function githubUser(accessToken: string): Promise<Identity> {
  const user = await getJson<{ id?: unknown; login?: unknown; name?: unknown }>(`${GITHUB_API}/user`, accessToken);
  const emails = await getJson<Array<{ email: string; verified: boolean }>>(`${GITHUB_API}/user/emails`, accessToken).catch(() => []);
  if (typeof user.id !== 'number') throw new FrontIdentityProviderError('the GitHub user answer has no id');
  return {
    subject: String(user.id),
    emails: emails.filter((entry) => entry.verified).map((entry) => entry.email.toLowerCase()),
    ...(typeof user.login === 'string' ? { name: user.login } : {}),
  };
}

async function getJson<T>(url: string, accessToken: string): Promise<T> {
  const response = await fetch(url, {
    headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) throw new FrontIdentityProviderError(`${new URL(url).origin} answered ${response.status} when asked who the user is`);
  return (await response.json()) as T;
}

/** Whether the allow-list admits the user: one of its verified emails (any case), or its subject. */
export function admitted(user: Identity, allow: readonly string[]): boolean {
  return allow.some((entry) => (entry.includes('@') ? user.emails.includes(entry.toLowerCase()) : entry === user.subject));
}
