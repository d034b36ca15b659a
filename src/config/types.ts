/** What the rest of the gateway sees of a validated `.mcp.json`. */

/** Which of a server's tools are exposed: `*` wildcards; deny wins over allow; no allow list means all. */
export interface ToolFilter {
  allow?: string[];
  deny?: string[];
}

export interface StdioServerConfig {
  kind: 'stdio';
  name: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
  /** Per-call timeout in milliseconds. */
  timeout?: number;
  disabled: boolean;
  tools?: ToolFilter;
  /** Free text for people (and for the model, in meta mode's list_servers). */
  description?: string;
}

export type HttpTransportKind = 'streamable-http' | 'sse';

/** The `oauth` block of Claude Code's `.mcp.json`, kept as written (validated in config/validateOAuth). */
export interface OAuthServerConfig {
  clientId?: string;
  clientSecret?: string;
  callbackPort?: number;
  scopes?: string[];
  authServerMetadataUrl?: string;
  resource?: boolean;
  /**
   * `authorization_code` (a person logs in), `client_credentials` (a machine; no browser), or
   * `identity-assertion` (an ID-JAG from `gateway.identityProvider`, no browser per server).
   * Unset: the identity assertion where the identity provider is configured and the server's
   * authorization server offers the JWT bearer grant, else the authorization code.
   */
  grant?: 'authorization_code' | 'client_credentials' | 'identity-assertion';
  /** A PEM private key for `private_key_jwt` client authentication (RFC 7523), or a file holding one. */
  privateKey?: string;
  privateKeyFile?: string;
  /** The JWT algorithm, when the key's type does not say (RS256, ES256, EdDSA…). */
  privateKeyAlg?: string;
  /** An https URL of this client's metadata document, used as client_id where the server supports that. */
  clientMetadataUrl?: string;
}

/**
 * `gateway.identityProvider`: the enterprise identity provider (OpenID Connect) the user signs in
 * to once, and which issues an ID-JAG for each server (Enterprise-Managed Authorization).
 * Validated in config/validateIdentityProvider.
 */
export interface IdentityProviderConfig {
  /** The IdP's issuer identifier (OpenID discovery at `<issuer>/.well-known/openid-configuration`). */
  issuer: string;
  /** The gateway's client at the IdP, and how it authenticates there (as a server's `oauth` block). */
  clientId: string;
  clientSecret?: string;
  privateKey?: string;
  privateKeyFile?: string;
  privateKeyAlg?: string;
  /** Scopes of the sign-in; `openid` always among them. */
  scopes: string[];
  /** An ID token the host already obtained (usually `${ENV}`): used instead of a sign-in. */
  idToken?: string;
  /** The IdP's token endpoint, when it publishes no discovery document (with `idToken`). */
  tokenEndpoint?: string;
  /** The fixed loopback port the IdP's client registration names (otherwise an ephemeral port). */
  callbackPort?: number;
}

export interface HttpServerConfig {
  kind: 'http';
  name: string;
  url: string;
  /** `streamable-http` falls back to SSE for pre-2025 servers; `sse` forces SSE. */
  transport: HttpTransportKind;
  headers: Record<string, string>;
  oauth?: OAuthServerConfig;
  timeout?: number;
  disabled: boolean;
  tools?: ToolFilter;
  /** Free text for people (and for the model, in meta mode's list_servers). */
  description?: string;
}

export type ServerConfig = StdioServerConfig | HttpServerConfig;

export interface ListenAddress {
  host: string;
  port: number;
}

/** `gateway.http.auth`: an OAuth front to one identity provider (its static client), admitting the users `allow` names. */
export interface HttpAuthOptions {
  provider: 'oidc' | 'google' | 'github';
  /** The identity provider's issuer, for discovery (oidc; the presets know theirs). */
  issuer?: string;
  clientId: string;
  clientSecret: string;
  /** Asked of the identity provider (default: openid email; GitHub: read:user user:email). */
  scopes?: string[];
  /** Emails (verified) or subjects of the users admitted. */
  allow: string[];
  /** The gateway's URL as clients reach it (behind a proxy: its https URL); default the listener's. */
  publicUrl?: string;
  /** Seconds an access token the gateway issues lives (default 3600). */
  tokenLifetime?: number;
}

/** `gateway.http`: serving over Streamable HTTP (`serve --http`). */
export interface HttpFrontOptions {
  /** Where `serve --http` listens when it names no address. */
  listen?: ListenAddress;
  /** Browser origins allowed besides a loopback listener's own. */
  allowedOrigins: string[];
  /** Believe a reverse proxy's X-Forwarded-For/-Proto/-Host (only behind one). */
  trustProxy: boolean;
  /** Client sessions at once at most (default 100). */
  maxSessions?: number;
  /** A session without a request or an open stream this long (ms) is ended (default 30 minutes). */
  sessionIdleTimeout?: number;
  /** Remote use: OAuth instead of the local token. */
  auth?: HttpAuthOptions;
}

export interface GatewayOptions {
  logLevel?: 'error' | 'warn' | 'info' | 'debug';
  logFile?: string;
  /** How long one server may take to connect, in milliseconds. */
  connectTimeout: number;
  /**
   * How long the first lists (tools, prompts, resources) may wait for servers without a cached
   * catalog to settle, in milliseconds (default 20000, never more than `connectTimeout`).
   */
  startupTimeout?: number;
  /** Keep each server's last catalog in the data directory for an instant, complete warm start (default true). */
  catalogCache?: boolean;
  /** How long a browser login may take before the loopback listener gives up, in milliseconds. */
  callbackTimeout?: number;
  /** Where OAuth logins are kept: `file` (default), `encrypted`, `keychain` or `memory`. */
  tokenStore?: 'file' | 'encrypted' | 'keychain' | 'memory';
  /** Calls in flight to one server at most; past it a call fails at once (default 256). */
  maxCallsInFlight?: number;
  /** `aggregate` (default): every tool as <server>__<tool>; `meta`: a few tools to discover and call them. */
  mode?: 'aggregate' | 'meta';
  /** The access rules file (absolute); default `.mcp-gateway-rules.json` beside the config. */
  rules?: string;
  /** The enterprise identity provider for Enterprise-Managed Authorization (ID-JAG); absent: none. */
  identityProvider?: IdentityProviderConfig;

  http?: HttpFrontOptions;
}

export interface GatewayConfig {
  /** Absolute path of the file this came from. */
  path: string;
  servers: ServerConfig[];
  gateway: GatewayOptions;
  /** Non-fatal findings (unknown fields and the like), each naming file and field. */
  warnings: string[];
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;
export const DEFAULT_STARTUP_TIMEOUT_MS = 20_000;
