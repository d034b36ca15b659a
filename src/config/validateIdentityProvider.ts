import { dirname, isAbsolute, resolve } from 'node:path';
import { ConfigError } from '../shared/errors.js';
import { expandVariables } from './expandVariables.js';
import { expectObject, expectString, expectStringArray, type JsonObject } from './jsonChecks.js';
import type { IdentityProviderConfig, ServerConfig } from './types.js';

const FIELDS = [
  'issuer',
  'clientId',
  'clientSecret',
  'privateKey',
  'privateKeyFile',
  'privateKeyAlg',
  'scopes',
  'idToken',
  'tokenEndpoint',
  'callbackPort',
];
const EXAMPLE = '{"issuer": "https://acme.okta.com", "clientId": "…", "clientSecret": "${IDP_CLIENT_SECRET}"}';

type Expand = (value: string, field: string) => string;

/**
 * `gateway.identityProvider` of a parsed `.mcp.json` (Enterprise-Managed Authorization): the
 * IdP's issuer, the gateway's client there, the sign-in scopes, and optionally an ID token the host
 * obtained (then `tokenEndpoint` may stand in for discovery). Also checks that every server with
 * `oauth.grant: "identity-assertion"` has an identity provider to get its grant from. Errors name
 * the file and field; unknown fields become warnings.
 * @see [MCP Enterprise-Managed Authorization §3, §4](https://github.com/modelcontextprotocol/ext-auth/blob/main/specification/stable/enterprise-managed-authorization.mdx)
 */
export function validateIdentityProvider(
  gateway: unknown,
  file: string,
  env: NodeJS.ProcessEnv,
  warnings: string[],
  servers: ServerConfig[],
): IdentityProviderConfig | undefined {
  const raw = isObject(gateway) ? gateway.identityProvider : undefined;
  const at = `${file}: gateway.identityProvider`;
  const identityProvider =
    raw === undefined ? undefined : readBlock(raw, at, (value, field) => expandVariables(value, env, `${at}.${field}`));
  for (const key of isObject(raw) ? Object.keys(raw) : []) if (!FIELDS.includes(key)) warnings.push(`${at}.${key}: unknown field, ignored`);
  for (const server of servers) {
    if (server.kind === 'http' && server.oauth?.grant === 'identity-assertion' && !identityProvider) {
      throw new ConfigError(
        `${file}: mcpServers.${server.name}.oauth.grant: "identity-assertion" needs gateway.identityProvider (the IdP that issues the grants), e.g. ${EXAMPLE}`,
      );
    }
  }
  return identityProvider;
}

function readBlock(value: unknown, at: string, expand: Expand): IdentityProviderConfig {
  const raw = expectObject(value, at, `must be an object such as ${EXAMPLE}`);
  if (raw.issuer === undefined)
    throw new ConfigError(`${at}.issuer: missing (the identity provider's issuer URL, e.g. https://acme.okta.com)`);
  if (raw.clientId === undefined) throw new ConfigError(`${at}.clientId: missing (the gateway's client ID at the identity provider)`);
  const config: IdentityProviderConfig = {
    issuer: issuerUrl(expand(expectString(raw.issuer, `${at}.issuer`), 'issuer'), `${at}.issuer`),
    clientId: nonEmpty(expand(expectString(raw.clientId, `${at}.clientId`), 'clientId'), `${at}.clientId`),
    scopes: scopes(raw.scopes, `${at}.scopes`),
  };
  const optional = (field: string) => (raw[field] === undefined ? undefined : expand(expectString(raw[field], `${at}.${field}`), field));
  assign(config, 'clientSecret', optional('clientSecret'));
  assign(config, 'privateKey', optional('privateKey'));
  assign(config, 'privateKeyFile', optionalPath(optional('privateKeyFile'), at));
  assign(config, 'privateKeyAlg', optional('privateKeyAlg'));
  // An empty ID token (`${MCP_ID_TOKEN:-}` unset) means none: the gateway signs in itself.
  assign(config, 'idToken', optional('idToken') || undefined);
  assign(config, 'tokenEndpoint', optionalEndpoint(optional('tokenEndpoint'), `${at}.tokenEndpoint`));
  assign(config, 'callbackPort', port(raw.callbackPort, `${at}.callbackPort`));
  return config;
}

/**
 * An issuer identifier: an https URL (plain http only on a loopback host, for tests and local
 * IdPs) without query or fragment.
 * @see [OpenID Connect Discovery §2](https://openid.net/specs/openid-connect-discovery-1_0.html#IssuerDiscovery), [RFC 8414 §2](https://www.rfc-editor.org/rfc/rfc8414.html#section-2)
 */
function issuerUrl(value: string, at: string): string {
  const url = endpoint(value, at);
  if (url.search || url.hash) throw new ConfigError(`${at}: an issuer has no query or fragment: "${value}"`);
  return value;
}

function optionalEndpoint(value: string | undefined, at: string): string | undefined {
  return value === undefined ? undefined : endpoint(value, at).href;
}

function endpoint(value: string, at: string): URL {
  const url = URL.canParse(value) ? new URL(value) : undefined;
  if (!url) throw new ConfigError(`${at}: not a valid URL: "${value}"`);
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new ConfigError(`${at}: must be an https:// URL (http:// only on 127.0.0.1 or localhost), not "${value}"`);
  }
  return url;
}

/** Sign-in scopes: an array or a space-separated string; `openid` is what makes it an OpenID Connect sign-in. */
function scopes(value: unknown, at: string): string[] {
  if (value === undefined) return ['openid'];
  const list = typeof value === 'string' ? value.split(/\s+/).filter(Boolean) : expectStringArray(value, at);
  if (!list.includes('openid'))
    throw new ConfigError(`${at}: must include "openid" (an ID token comes only with it), e.g. ["openid", "email"]`);
  return list;
}

function optionalPath(path: string | undefined, at: string): string | undefined {
  if (path === undefined) return undefined;
  return isAbsolute(path) ? path : resolve(dirname(at.slice(0, at.indexOf(': '))), path);
}

function port(value: unknown, at: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) {
    throw new ConfigError(`${at}: must be a TCP port (1-65535), not ${JSON.stringify(value)}`);
  }
  return value;
}

function nonEmpty(value: string, at: string): string {
  if (!value.trim()) throw new ConfigError(`${at}: must not be empty`);
  return value;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function assign<K extends keyof IdentityProviderConfig>(
  config: IdentityProviderConfig,
  key: K,
  value: IdentityProviderConfig[K] | undefined,
): void {
  if (value !== undefined) config[key] = value;
}
