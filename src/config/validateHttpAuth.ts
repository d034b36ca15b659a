import { ConfigError } from '../shared/errors.js';
import { expandVariables } from './expandVariables.js';
import { checkUrl, describe, expectObject, expectString, expectStringArray, optionalPositiveInt } from './jsonChecks.js';
import type { HttpAuthOptions } from './types.js';

const AUTH_FIELDS = ['provider', 'issuer', 'clientId', 'clientSecret', 'scopes', 'allow', 'publicUrl', 'tokenLifetime'];
const PROVIDERS = ['oidc', 'google', 'github'];

/**
 * `gateway.http.auth`: the gateway as an OAuth-protected MCP server in front of one real
 * identity provider with a static client. `clientId` and `clientSecret` take `${VAR}`; who
 * may use it (`allow`: emails or subjects) must be said, an empty list admitting no one.
 */
export function validateHttpAuth(raw: unknown, at: string, warnings: string[], env: NodeJS.ProcessEnv): HttpAuthOptions {
  const block = expectObject(raw, at, 'must be an object: provider, issuer, clientId, clientSecret, allow');
  for (const key of Object.keys(block)) if (!AUTH_FIELDS.includes(key)) warnings.push(`${at}.${key}: unknown field, ignored`);
  const expand = (field: string) => expandVariables(expectString(block[field], `${at}.${field}`), env, `${at}.${field}`);
  const provider = block.provider === undefined ? 'oidc' : expectString(block.provider, `${at}.provider`);
  if (!PROVIDERS.includes(provider)) throw new ConfigError(`${at}.provider: must be one of ${PROVIDERS.join(', ')} (got "${provider}")`);
  if (provider === 'oidc' && block.issuer === undefined)
    throw new ConfigError(`${at}.issuer: the identity provider's issuer URL is needed for "oidc"`);
  for (const field of ['clientId', 'clientSecret'])
    if (block[field] === undefined)
      throw new ConfigError(`${at}.${field}: needed (the identity provider's client; "\${VAR}" reads it from the environment)`);
  if (!Array.isArray(block.allow) || !block.allow.length)
    throw new ConfigError(
      `${at}.allow: a non-empty list of the users admitted (emails, or the identity provider's subjects), not ${describe(block.allow)}`,
    );
  const options: HttpAuthOptions = {
    provider: provider as HttpAuthOptions['provider'],
    clientId: expand('clientId'),
    clientSecret: expand('clientSecret'),
    allow: expectStringArray(block.allow, `${at}.allow`),
    scopes: block.scopes === undefined ? undefined : expectStringArray(block.scopes, `${at}.scopes`),
    tokenLifetime: optionalPositiveInt(block.tokenLifetime, `${at}.tokenLifetime`, 'seconds'),
  };
  if (block.issuer !== undefined) {
    options.issuer = expand('issuer');
    checkUrl(options.issuer, `${at}.issuer`);
  }
  if (block.publicUrl !== undefined) {
    options.publicUrl = expand('publicUrl').replace(/\/$/, '');
    checkUrl(options.publicUrl, `${at}.publicUrl`);
  }
  return options;
}
