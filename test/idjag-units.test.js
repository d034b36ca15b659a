// The pure parts of Enterprise-Managed Authorization: ID token validation (real keys made
// here with jose, no mocks), which grant a server gets, the token exchange's answer, the
// refusals' wording, and the config block's checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { AccessDeniedError, InvalidTargetError, ServerError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { verifyIdToken, claimProblem, idTokenExpiry } from '../dist/oauth/identity/idTokenChecks.js';
import {
  chooseServerGrant,
  mayFallBackToBrowser,
  acceptsIdJag,
  JWT_BEARER_GRANT,
  ID_JAG_PROFILE,
} from '../dist/oauth/identity/identityGrants.js';
import { readIssuedIdJag } from '../dist/oauth/identity/tokenExchange.js';
import { explainIdpRefusal } from '../dist/oauth/identity/identityAssertionGrant.js';
import { validateConfig } from '../dist/config/validateConfig.js';
import { IdTokenInvalidError, IdentityAssertionDeniedError, UnsafeAuthorizationServerError, ConfigError } from '../dist/shared/errors.js';

const ISSUER = 'https://idp.example.com';
const CLIENT = 'gateway';
const key = await generateKeyPair('RS256');
const other = await generateKeyPair('RS256');
const jwks = { keys: [{ ...(await exportJWK(key.publicKey)), kid: 'k1', alg: 'RS256' }] };
const now = Math.floor(Date.now() / 1000);

function idToken(claims = {}, { signer = key.privateKey, alg = 'RS256' } = {}) {
  return new SignJWT({ sub: 'alice', nonce: 'n-1', ...claims })
    .setProtectedHeader({ alg, kid: 'k1' })
    .setIssuer(claims.iss ?? ISSUER)
    .setAudience(claims.aud ?? CLIENT)
    .setIssuedAt(claims.iat ?? now)
    .setExpirationTime(claims.exp ?? now + 3600)
    .sign(signer);
}

async function refusal(token, expect = { issuer: ISSUER, clientId: CLIENT, nonce: 'n-1' }) {
  const error = await verifyIdToken(token, jwks, expect).then(
    () => undefined,
    (e) => e,
  );
  assert.ok(error instanceof IdTokenInvalidError, `refused as IdTokenInvalidError, got ${error}`);
  assert.equal(error.code, 'id_token_invalid');
  return error.message;
}

test('an ID token signed by the IdP, for this client, unexpired, with the sign-in nonce is accepted', async () => {
  const claims = await verifyIdToken(await idToken(), jwks, { issuer: ISSUER, clientId: CLIENT, nonce: 'n-1' });
  assert.equal(claims.sub, 'alice');
  // A refreshed ID token carries no nonce to check (OpenID Connect Core §12.2).
  await verifyIdToken(await idToken({ nonce: undefined }), jwks, { issuer: ISSUER, clientId: CLIENT });
});

test('an ID token with the wrong issuer, audience, expiry, signature or nonce is refused, saying which', async () => {
  assert.match(
    await refusal(await idToken({ iss: 'https://evil.example' })),
    /its issuer \(iss\) is "https:\/\/evil\.example", not https:\/\/idp\.example\.com/,
  );
  assert.match(
    await refusal(await idToken({ aud: 'someone-else' })),
    /its audience \(aud\) is "someone-else", not this client \(gateway\)/,
  );
  assert.match(await refusal(await idToken({ iat: now - 7200, exp: now - 3600 })), /it has expired/);
  assert.match(await refusal(await idToken({}, { signer: other.privateKey })), /its signature does not verify/);
  assert.match(await refusal(await idToken({ nonce: 'replayed' })), /its nonce is not the one this sign-in sent/);
  assert.match(await refusal('not.a.jwt'), /not a valid signed JWT/);
});

test('an ID token for several audiences is accepted only when azp names this client', () => {
  const expect = { issuer: ISSUER, clientId: CLIENT };
  assert.match(claimProblem({ aud: [CLIENT, 'api'], azp: 'api' }, expect), /several audiences and its azp is "api"/);
  assert.equal(claimProblem({ aud: [CLIENT, 'api'], azp: CLIENT }, expect), undefined);
  assert.equal(claimProblem({ aud: CLIENT }, expect), undefined);
});

test("an ID token's expiry is read without validating it; a token that is not a JWT has none", async () => {
  assert.equal(idTokenExpiry(await idToken({ exp: now + 10 })), (now + 10) * 1000);
  assert.equal(idTokenExpiry('opaque'), undefined);
});

test('a server gets the identity assertion when an IdP is configured and its authorization server accepts ID-JAGs', () => {
  const jwtBearer = { grant_types_supported: ['authorization_code', JWT_BEARER_GRANT] };
  const profile = { grant_types_supported: ['authorization_code'], authorization_grant_profiles_supported: [ID_JAG_PROFILE] };
  const codeOnly = { grant_types_supported: ['authorization_code'] };
  assert.equal(chooseServerGrant(undefined, jwtBearer, true), 'identity-assertion');
  assert.equal(chooseServerGrant(undefined, profile, true), 'identity-assertion');
  assert.equal(chooseServerGrant(undefined, jwtBearer, false), 'authorization_code');
  assert.equal(chooseServerGrant(undefined, codeOnly, true), 'authorization_code');
  assert.equal(chooseServerGrant({ grant: 'identity-assertion' }, codeOnly, true), 'identity-assertion');
  assert.equal(chooseServerGrant({ grant: 'authorization_code' }, jwtBearer, true), 'authorization_code');
  assert.equal(acceptsIdJag(undefined), false);
});

test('a refused identity assertion falls back to the browser only with oauth.grant unset and the code grant offered', () => {
  assert.equal(mayFallBackToBrowser(undefined, { grant_types_supported: ['authorization_code', JWT_BEARER_GRANT] }), true);
  assert.equal(mayFallBackToBrowser(undefined, undefined), true, 'no list: RFC 8414 default includes authorization_code');
  assert.equal(mayFallBackToBrowser(undefined, { grant_types_supported: [JWT_BEARER_GRANT] }), false);
  assert.equal(mayFallBackToBrowser({ grant: 'identity-assertion' }, { grant_types_supported: ['authorization_code'] }), false);
});

test("the exchange's answer must be an ID-JAG: the issued token type and a JWT", () => {
  const jag = 'eyJ0eXAiOiJvYXV0aC1pZC1qYWcrand0In0.eyJzdWIiOiJhIn0.c2ln';
  assert.deepEqual(
    readIssuedIdJag(
      { issued_token_type: 'urn:ietf:params:oauth:token-type:id-jag', access_token: jag, token_type: 'N_A', expires_in: 300 },
      'x',
    ),
    {
      assertion: jag,
      expiresIn: 300,
    },
  );
  assert.throws(
    () => readIssuedIdJag({ issued_token_type: 'urn:ietf:params:oauth:token-type:access_token', access_token: jag }, 'https://idp/token'),
    (error) =>
      error instanceof UnsafeAuthorizationServerError &&
      /issued_token_type "urn:ietf:params:oauth:token-type:access_token"/.test(error.message),
  );
  assert.throws(
    () => readIssuedIdJag({ issued_token_type: 'urn:ietf:params:oauth:token-type:id-jag', access_token: 'opaque' }, 'x'),
    UnsafeAuthorizationServerError,
  );
});

test("the IdP's refusal becomes a denial for that server with what to ask the administrator; other failures pass as they are", () => {
  const denied = explainIdpRefusal('github', new AccessDeniedError('alice is not assigned'));
  assert.ok(denied instanceof IdentityAssertionDeniedError);
  assert.equal(denied.code, 'identity_assertion_denied');
  assert.equal(denied.oauthError, 'access_denied');
  assert.equal(
    denied.message,
    'the identity provider did not grant access to github (access_denied: alice is not assigned); ask your administrator to assign this user the application for github in the identity provider',
  );
  assert.equal(explainIdpRefusal('github', new InvalidTargetError('')).oauthError, 'invalid_target');
  const outage = new ServerError('down');
  assert.equal(explainIdpRefusal('github', outage), outage);
});

const FILE = '/tmp/x/.mcp.json';
const configWith = (identityProvider, oauth) => ({
  mcpServers: { s: { url: 'https://mcp.example.com/mcp', ...(oauth ? { oauth } : {}) } },
  gateway: identityProvider === undefined ? {} : { identityProvider },
});
const configError = (raw, env = {}) => {
  try {
    validateConfig(raw, FILE, env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.message;
  }
  assert.fail('expected a ConfigError');
};

test('gateway.identityProvider is read with its variables expanded and openid as the default scope', () => {
  const config = validateConfig(
    configWith(
      { issuer: 'https://acme.okta.com', clientId: '0oa1', clientSecret: '${SECRET}', idToken: '${ID_TOKEN:-}' },
      { grant: 'identity-assertion', clientId: 'gw' },
    ),
    FILE,
    { SECRET: 's3' },
  );
  assert.deepEqual(config.gateway.identityProvider, {
    issuer: 'https://acme.okta.com',
    clientId: '0oa1',
    clientSecret: 's3',
    scopes: ['openid'],
  });
  assert.equal(config.servers[0].oauth.grant, 'identity-assertion');
  assert.deepEqual(config.warnings, []);
});

test('a malformed gateway.identityProvider is refused with the file, the field and what to write', () => {
  assert.match(configError(configWith('okta')), /gateway\.identityProvider: must be an object such as \{"issuer"/);
  assert.match(configError(configWith({ clientId: 'x' })), /gateway\.identityProvider\.issuer: missing/);
  assert.match(configError(configWith({ issuer: 'https://idp.example' })), /gateway\.identityProvider\.clientId: missing/);
  assert.match(
    configError(configWith({ issuer: 'http://idp.example', clientId: 'x' })),
    /issuer: must be an https:\/\/ URL \(http:\/\/ only on 127\.0\.0\.1 or localhost\)/,
  );
  assert.match(
    configError(configWith({ issuer: 'https://idp.example/?tenant=1', clientId: 'x' })),
    /issuer: an issuer has no query or fragment/,
  );
  assert.match(
    configError(configWith({ issuer: 'https://idp.example', clientId: 'x', scopes: ['email'] })),
    /scopes: must include "openid"/,
  );
  assert.match(
    configError(configWith({ issuer: 'https://idp.example', clientId: 'x', callbackPort: 70000 })),
    /callbackPort: must be a TCP port/,
  );
  assert.match(
    configError(configWith(undefined, { grant: 'identity-assertion' })),
    /mcpServers\.s\.oauth\.grant: "identity-assertion" needs gateway\.identityProvider/,
  );
  assert.match(
    configError(configWith(undefined, { grant: 'password' })),
    /"identity-assertion" \(an ID-JAG from gateway\.identityProvider\), not "password"/,
  );
  const { warnings } = validateConfig(configWith({ issuer: 'https://idp.example', clientId: 'x', tenant: 'y' }), FILE, {});
  assert.deepEqual(warnings, [`${FILE}: gateway.identityProvider.tenant: unknown field, ignored`]);
});
