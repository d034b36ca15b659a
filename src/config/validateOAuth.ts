import { dirname, isAbsolute, resolve } from 'node:path';
import { ConfigError } from '../shared/errors.js';
import { checkUrl, expectObject, expectString, expectStringArray, optionalBoolean, optionalPositiveInt } from './jsonChecks.js';
import type { OAuthServerConfig } from './types.js';

const OAUTH_FIELDS = [
  'clientId',
  'clientSecret',
  'callbackPort',
  'scopes',
  'authServerMetadataUrl',
  'resource',
  'grant',
  'privateKey',
  'privateKeyFile',
  'privateKeyAlg',
  'clientMetadataUrl',
];

/** The config file a field path like `/x/.mcp.json: mcpServers.a.oauth` belongs to. */
function configFileOf(at: string): string {
  return at.slice(0, at.indexOf(': '));
}

/** A server's `oauth` block; `expand` resolves `${VAR}` references. */
export function validateOAuth(
  raw: unknown,
  at: string,
  expand: (value: string, field: string) => string,
  warnings: string[],
): OAuthServerConfig {
  const block = expectObject(raw, at, 'must be an object such as {"clientId": "...", "scopes": [...]}');
  for (const key of Object.keys(block)) {
    if (!OAUTH_FIELDS.includes(key)) warnings.push(`${at}.${key}: unknown field, ignored`);
  }
  const out: OAuthServerConfig = {};
  if (block.clientId !== undefined) out.clientId = expand(expectString(block.clientId, `${at}.clientId`), 'oauth.clientId');
  if (block.clientSecret !== undefined) {
    out.clientSecret = expand(expectString(block.clientSecret, `${at}.clientSecret`), 'oauth.clientSecret');
  }
  if (block.callbackPort !== undefined) {
    const port = optionalPositiveInt(block.callbackPort, `${at}.callbackPort`, 'a TCP port');
    if (port !== undefined && port > 65535) throw new ConfigError(`${at}.callbackPort: must be a TCP port (1-65535)`);
    out.callbackPort = port;
  }
  if (block.scopes !== undefined) {
    // Claude Code writes scopes as an array; a space-separated string is accepted too.
    out.scopes =
      typeof block.scopes === 'string' ? block.scopes.split(/\s+/).filter(Boolean) : expectStringArray(block.scopes, `${at}.scopes`);
  }
  if (block.authServerMetadataUrl !== undefined) {
    const url = expand(expectString(block.authServerMetadataUrl, `${at}.authServerMetadataUrl`), 'oauth.authServerMetadataUrl');
    checkUrl(url, `${at}.authServerMetadataUrl`);
    out.authServerMetadataUrl = url;
  }
  if (block.resource !== undefined) out.resource = optionalBoolean(block.resource, `${at}.resource`);
  if (block.grant !== undefined) {
    const grant = expectString(block.grant, `${at}.grant`);
    if (grant !== 'authorization_code' && grant !== 'client_credentials' && grant !== 'identity-assertion') {
      throw new ConfigError(
        `${at}.grant: must be "authorization_code" (a person logs in), "client_credentials" (a machine) or "identity-assertion" (an ID-JAG from gateway.identityProvider), not "${grant}"`,
      );
    }
    out.grant = grant;
  }
  if (block.privateKey !== undefined) out.privateKey = expand(expectString(block.privateKey, `${at}.privateKey`), 'oauth.privateKey');
  if (block.privateKeyFile !== undefined) {
    const path = expand(expectString(block.privateKeyFile, `${at}.privateKeyFile`), 'oauth.privateKeyFile');
    out.privateKeyFile = isAbsolute(path) ? path : resolve(dirname(configFileOf(at)), path);
  }
  if (block.privateKeyAlg !== undefined) out.privateKeyAlg = expectString(block.privateKeyAlg, `${at}.privateKeyAlg`);
  if (block.clientMetadataUrl !== undefined) {
    const url = expand(expectString(block.clientMetadataUrl, `${at}.clientMetadataUrl`), 'oauth.clientMetadataUrl');
    const parsed = URL.canParse(url) ? new URL(url) : undefined;
    if (parsed?.protocol !== 'https:' || parsed.pathname === '/') {
      throw new ConfigError(`${at}.clientMetadataUrl: must be an https URL with a path (the client metadata document), not "${url}"`);
    }
    out.clientMetadataUrl = url;
  }
  if (out.clientSecret && !out.clientId) throw new ConfigError(`${at}.clientSecret: given without "clientId"`);
  if ((out.privateKey || out.privateKeyFile) && !out.clientId) throw new ConfigError(`${at}.privateKey: given without "clientId"`);
  if (out.grant === 'client_credentials' && (!out.clientId || !(out.clientSecret || out.privateKey || out.privateKeyFile))) {
    throw new ConfigError(`${at}.grant: "client_credentials" needs "clientId" and either "clientSecret" or "privateKey"/"privateKeyFile"`);
  }
  return out;
}
