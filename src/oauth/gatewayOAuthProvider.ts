import { registerSecret } from '../log/redact.js';
import { randomBytes } from 'node:crypto';
import type { OAuthClientProvider, OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { OAuthServerConfig } from '../config/types.js';
import { clientAuthenticator, type ClientAssertionSigner } from './clientAuthentication.js';
import { checkDiscovery } from './discoveryChecks.js';
import { UnsafeAuthorizationServerError } from '../shared/errors.js';
import { privateKeyJwtSigner } from './privateKeyJwt.js';
import { checkRegistrationAnswer, secretExpired } from './registrationChecks.js';
import { checkNamedResource } from './discovery.js';
import { resourceIndicator } from './resourcePolicy.js';
import { storedTokensFrom, type StoredClient, type StoredTokens, type TokenStore } from './tokenStore.js';

export const CLIENT_NAME = 'mcp-oauth-gateway';

/**
 * The OAuthClientProvider the SDK's `auth()` runs a login with, for one server. It is
 * backed by the token store, the config's static client, and the loopback listener of the
 * flow in progress; the SDK does discovery, registration, PKCE and the code exchange.
 *
 * It deliberately hands `auth()` no tokens: the gateway calls `auth()` only when a browser
 * login is needed, and refreshes tokens itself (see ServerAuth), so that the SDK never
 * falls through from a failed refresh to a new browser login on its own.
 */
export class GatewayOAuthProvider implements OAuthClientProvider {
  /** Set per flow, before `auth()`: the loopback redirect URI. */
  redirectUri?: string;
  /** Captured in `redirectToAuthorization`: what the user must open. */
  authorizationUrl?: URL;
  private flowState?: string;
  private verifier?: string;
  private discovery?: OAuthDiscoveryState;
  readonly validateResourceURL: NonNullable<OAuthClientProvider['validateResourceURL']>;
  /** `private_key_jwt` when the config has a private key: every token request signs a client assertion. */
  readonly signer?: ClientAssertionSigner;
  /** The client authentication of the SDK's token requests (the code exchange): see chooseClientAuthMethod. */
  readonly addClientAuthentication: ClientAssertionSigner;
  /** A client ID metadata document (MCP 2025-11-25), used as client_id where the authorization server supports it. */
  readonly clientMetadataUrl?: string;
  /** The OpenID Connect `nonce` of this flow's authorization request (an OpenID sign-in only), for the ID token check. */
  nonce?: string;

  constructor(
    private readonly serverUrl: string,
    private readonly store: TokenStore,
    private readonly config: OAuthServerConfig = {},
    private readonly onTokensSaved: (tokens: StoredTokens) => Promise<void>,
    /** An OpenID Connect sign-in (the identity provider): each authorization request carries a fresh `nonce`. */
    private readonly openId = false,
  ) {
    // The RFC 8707 `resource` of the SDK's authorization and token requests (see resourceIndicator):
    // always sent, also without protected resource metadata; none only with `resource: false`.
    // A string, which the SDK sends verbatim (a URL's href would add a `/` to a pathless one).
    this.validateResourceURL = async (_serverUrl, named) => {
      if (named) checkNamedResource(serverUrl, named, undefined);
      const resource = resourceIndicator({ resourceMetadata: named ? { resource: named } : undefined }, config, serverUrl);
      return resource as unknown as URL | undefined;
    };
    this.signer = privateKeyJwtSigner(config);
    this.addClientAuthentication = clientAuthenticator(() => this.clientInformation(), this.signer);
    this.clientMetadataUrl = config.clientMetadataUrl;
  }

  get redirectUrl(): string | undefined {
    return this.redirectUri;
  }

  /**
   * The registration request (RFC 7591 §2): `application_type: "native"`, which the 2026 MCP
   * revision requires for loopback redirect URIs (OpenID Connect Registration §2).
   * @see [RFC 7591 §2](https://www.rfc-editor.org/rfc/rfc7591.html#section-2), [OpenID Connect Registration §2](https://openid.net/specs/openid-connect-registration-1_0.html#ClientMetadata)
   */
  get clientMetadata(): OAuthClientMetadata & { application_type: 'native' } {
    const metadata = {
      client_name: CLIENT_NAME,
      application_type: 'native' as const,
      redirect_uris: this.redirectUri ? [this.redirectUri] : [],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: this.signer ? 'private_key_jwt' : this.config.clientSecret ? 'client_secret_post' : 'none',
      scope: this.fallbackScope(),
    };
    return metadata;
  }

  /** Config scopes apply only when the protected resource metadata names none (an empty list means "no scope"). */
  private fallbackScope(): string | undefined {
    if (this.discovery?.resourceMetadata?.scopes_supported !== undefined) return undefined;
    return this.config.scopes?.length ? this.config.scopes.join(' ') : undefined;
  }

  /** A fresh, unguessable `state` for this flow. */
  state(): string {
    this.flowState = randomBytes(24).toString('base64url');
    return this.flowState;
  }

  get expectedState(): string | undefined {
    return this.flowState;
  }

  async clientInformation(): Promise<OAuthClientInformationMixed | undefined> {
    const stored = await this.store.readClient(this.serverUrl);
    // A client ID metadata document (MCP 2025-11-25) comes first where the server supports it:
    // returning nothing here lets the SDK use the document's URL as client_id.
    const metadata = this.discovery?.authorizationServerMetadata as { client_id_metadata_document_supported?: boolean } | undefined;
    if (
      this.clientMetadataUrl &&
      (stored?.client_id === this.clientMetadataUrl || metadata?.client_id_metadata_document_supported === true)
    ) {
      return stored?.client_id === this.clientMetadataUrl ? stored : undefined;
    }
    if (this.config.clientId) {
      return { client_id: this.config.clientId, ...(this.config.clientSecret ? { client_secret: this.config.clientSecret } : {}) };
    }
    // A registration made for another loopback port no longer matches: register again.
    if (!stored || stored.source !== 'dcr' || (this.redirectUri && stored.redirect_uri !== this.redirectUri)) return undefined;
    // A registration whose secret has expired (RFC 7591 §3.2.1): register again.
    if (secretExpired(stored)) return undefined;
    return stored;
  }

  async saveClientInformation(info: OAuthClientInformationMixed): Promise<void> {
    registerSecret((info as { client_secret?: string }).client_secret);
    if (this.config.clientId && info.client_id === this.config.clientId) return; // Static clients live in the config.
    if (typeof info.client_id !== 'string' || !info.client_id) {
      throw new UnsafeAuthorizationServerError('the client registration response carries no client_id');
    }
    if (info.client_id !== this.clientMetadataUrl) checkRegistrationAnswer(info, this.redirectUri);
    const record: StoredClient =
      info.client_id === this.clientMetadataUrl ? { ...info, source: 'cimd' } : { ...info, source: 'dcr', redirect_uri: this.redirectUri };
    await this.store.writeClient(this.serverUrl, record);
  }

  tokens(): OAuthTokens | undefined {
    return undefined;
  }

  async saveTokens(tokens: OAuthTokens): Promise<void> {
    await this.onTokensSaved(storedTokensFrom(tokens));
  }

  /**
   * Captures the authorization URL; for an OpenID Connect sign-in, with a fresh `nonce` the ID
   * token must echo (it binds the token to this request: no replayed or injected ID token).
   * @see [OpenID Connect Core §3.1.2.1](https://openid.net/specs/openid-connect-core-1_0.html#AuthRequest), [§15.5.2](https://openid.net/specs/openid-connect-core-1_0.html#NonceNotes)
   */
  redirectToAuthorization(url: URL): void {
    if (this.openId) {
      this.nonce = randomBytes(24).toString('base64url');
      url.searchParams.set('nonce', this.nonce);
    }
    this.authorizationUrl = url;
  }

  saveCodeVerifier(verifier: string): void {
    registerSecret(verifier); // RFC 7636 §7.1: redacted from the moment it exists.
    this.verifier = verifier;
  }

  codeVerifier(): string {
    if (!this.verifier) throw new Error('no PKCE verifier: this login was not started by this process');
    return this.verifier;
  }

  async invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery'): Promise<void> {
    if (scope === 'verifier') {
      this.verifier = undefined;
      return;
    }
    const kinds: Array<'tokens' | 'client' | 'discovery'> = scope === 'all' ? ['tokens', 'client', 'discovery'] : [scope];
    if (kinds.includes('discovery')) this.discovery = undefined;
    await this.store.delete(this.serverUrl, kinds);
  }

  async saveDiscoveryState(state: OAuthDiscoveryState): Promise<void> {
    checkDiscovery(state);
    this.discovery = state;
    await this.store.writeDiscovery(this.serverUrl, state);
  }

  async discoveryState(): Promise<OAuthDiscoveryState | undefined> {
    if (!this.discovery) {
      const stored = await this.store.readDiscovery(this.serverUrl);
      try {
        if (stored) checkDiscovery(stored);
        this.discovery = stored;
      } catch {
        await this.store.delete(this.serverUrl, ['discovery']); // Discover afresh.
      }
    }
    return this.discovery;
  }

  /** After a login: no flow in progress (a refresh must not judge the registration by a past flow's redirect URI). */
  endFlow(): void {
    this.nonce = undefined;
    this.redirectUri = undefined;
    this.authorizationUrl = undefined;
    this.flowState = undefined;
    this.verifier = undefined;
  }

  /** Called once per flow: forget what the previous flow left in memory. */
  resetFlow(redirectUri: string): void {
    this.nonce = undefined;
    this.redirectUri = redirectUri;
    this.authorizationUrl = undefined;
    this.flowState = undefined;
    this.verifier = undefined;
  }
}
