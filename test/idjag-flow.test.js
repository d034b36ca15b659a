// Enterprise-Managed Authorization end to end: `gateway serve` / `gateway list` as real child
// processes, the test identity provider (test/fixtures/idp: OpenID Connect sign-in, RFC 8693
// exchange minting ID-JAGs under an admin policy) and test authorization servers that accept the
// JWT bearer grant with ID-JAGs (test/fixtures/oauth/idJagGrant.js). The browser is the tests'
// stand-in, which follows the identity provider's redirect (it approves at once as the user).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startIdentityProvider } from './fixtures/idp/identityProvider.js';
import { killedAtEnd, waitForState, writeConfig } from './helpers/gatewayProcess.js';
import {
  oauthHome,
  oauthEnv,
  browserLaunches,
  startOAuthGateway,
  waitForTools,
  echo,
  runCli,
  trackedFixtures,
} from './helpers/oauthGateway.js';

const running = killedAtEnd();
const fixture = trackedFixtures();
const idps = [];
after(async () => {
  for (const idp of idps) await idp.close();
});

/** An identity provider and one authorization server (with its MCP server) per name, each trusting it. */
async function enterprise(names, { idpKnobs = {}, asKnobs = () => ({}) } = {}) {
  const idp = await startIdentityProvider(idpKnobs);
  idps.push(idp);
  const servers = {};
  for (const name of names) {
    servers[name] = await fixture({
      name,
      trustedIdp: { issuer: idp.issuer, jwksUrl: `${idp.issuer}/jwks` },
      clients: [{ client_id: 'gateway', redirect_uris: ['http://127.0.0.1/callback'] }],
      ...asKnobs(name),
    });
  }
  const config = (oauth = () => ({})) => ({
    mcpServers: Object.fromEntries(
      names.map((name) => [name, { url: servers[name].mcpUrl, oauth: { clientId: 'gateway', ...oauth(name) } }]),
    ),
    gateway: { identityProvider: { issuer: idp.issuer, clientId: 'gateway', scopes: ['openid', 'email'] } },
  });
  return { idp, servers, config };
}

async function serve(env, config) {
  const gw = await startOAuthGateway(env, config.mcpServers, { args: ['--config', writeConfig(config)] });
  running.push(gw);
  return gw;
}

/** `gateway list --json` on a config: each server's state, failure code and reason by name. */
async function listed(env, config) {
  const result = await runCli(['list', '--json', '--config', writeConfig(config)], { env: oauthEnv(env) });
  const servers = JSON.parse(result.stdout).servers;
  return Object.fromEntries(servers.map((s) => [s.name, s]));
}

/** Every file of the token store, as text. */
function storeText({ home }) {
  const texts = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(dir, entry.name));
      else texts.push(readFileSync(join(dir, entry.name), 'utf8'));
    }
  };
  walk(home);
  return texts.join('\n');
}

/** Moves every stored expiry into the past (the tokens of the IdP and of every server), as a clock an hour on would see them. */
function expireEverything({ home }) {
  const root = join(home, 'servers');
  for (const dir of readdirSync(root)) {
    const file = join(root, dir, 'tokens.json');
    try {
      const tokens = JSON.parse(readFileSync(file, 'utf8'));
      writeFileSync(file, JSON.stringify({ ...tokens, obtained_at: Date.now() - 3_600_000, expires_at: Date.now() - 1000 }));
    } catch {
      // A directory without tokens (discovery only).
    }
  }
}

const grants = (f) => f.records.tokenRequests.filter((r) => r.grant_type === 'urn:ietf:params:oauth:grant-type:jwt-bearer');

test('one sign-in at the identity provider, then three servers are authorized with no further browser', async () => {
  const { idp, servers, config } = await enterprise(['a', 'b', 'c']);
  const env = oauthHome();
  const gw = await serve(env, config());
  for (const name of ['a', 'b', 'c']) await waitForTools(gw, name);
  for (const name of ['a', 'b', 'c']) assert.equal(await echo(gw, name), `${name}:hi`);

  // One browser launch, at the identity provider: OpenID Connect with PKCE and a nonce.
  const launches = browserLaunches(env);
  assert.equal(launches.length, 1);
  const signIn = new URL(launches[0]);
  assert.equal(signIn.origin, idp.issuer);
  assert.equal(signIn.searchParams.get('code_challenge_method'), 'S256');
  assert.ok(signIn.searchParams.get('nonce').length >= 32);
  assert.deepEqual(signIn.searchParams.get('scope').split(' ').sort(), ['email', 'offline_access', 'openid']);
  assert.equal(idp.records.authorizeRequests.length, 1);

  // One exchange per server, for its authorization server and resource; no login at any of them.
  assert.deepEqual(
    idp.records.exchanges.map((e) => [e.audience, e.resource, e.subject_token_type]).sort(),
    Object.values(servers)
      .map((f) => [f.issuer, f.mcpUrl, 'urn:ietf:params:oauth:token-type:id_token'])
      .sort(),
  );
  for (const f of Object.values(servers)) {
    assert.equal(f.records.authorizeRequests.length, 0);
    assert.deepEqual(
      f.records.jwtBearer.map((r) => [r.client_id, r.status, r.subject]),
      [['gateway', 200, 'alice']],
    );
  }
  // Each ID-JAG was for its own server only, and none is kept.
  assert.deepEqual(new Set(idp.records.idJags.map((jag) => `${jag.aud} ${jag.resource}`)).size, 3);
  const stored = storeText(env);
  for (const jwt of idp.records.issued) assert.ok(!stored.includes(jwt), 'an ID-JAG was written to the store');

  // A restart uses the stored tokens: no browser, no exchange.
  await gw.close();
  const again = await serve(env, config());
  for (const name of ['a', 'b', 'c']) await waitForTools(again, name);
  assert.equal(browserLaunches(env).length, 1);
  assert.equal(idp.records.exchanges.length, 3);
});

test('a server the administrator did not assign is reported as denied while the others serve; no browser opens for it', async () => {
  const { idp, servers, config } = await enterprise(['a', 'b', 'denied'], { asKnobs: (name) => ({ idJagOnly: name === 'denied' }) });
  idp.knobs.policy = { alice: [servers.a.mcpUrl, servers.b.mcpUrl] };
  const env = oauthHome();
  const states = await listed(env, config());
  assert.equal(states.a.state, 'ready');
  assert.equal(states.b.state, 'ready');
  assert.equal(states.denied.state, 'failed');
  assert.equal(states.denied.code, 'identity_assertion_denied');
  assert.match(states.denied.reason, /did not grant access to denied \(access_denied/);
  assert.match(states.denied.reason, /ask your administrator to assign this user the application for denied/);
  assert.equal(browserLaunches(env).length, 1, 'only the sign-in at the identity provider');
  assert.equal(servers.denied.records.authorizeRequests.length, 0);

  // gateway__status says the same to the model in a running gateway.
  const gw = await serve(env, config());
  await waitForTools(gw, 'a');
  const status = await waitForState(gw, 'denied', 'failed');
  assert.equal(status.error_code, 'identity_assertion_denied');
  assert.match(status.what_to_do, /ask your administrator/);
});

test('a denied server whose authorization server also offers the code grant is logged in to in the browser, unless oauth.grant insists', async () => {
  const { idp, servers, config } = await enterprise(['fallback']);
  idp.knobs.policy = { alice: [] };
  servers.fallback.knobs.autoApprove = true;
  const env = oauthHome();
  const states = await listed(env, config());
  assert.equal(states.fallback.state, 'ready');
  assert.deepEqual(
    browserLaunches(env).map((url) => new URL(url).origin),
    [idp.issuer, new URL(servers.fallback.issuer).origin],
  );

  // With oauth.grant "identity-assertion" the refusal stands: no browser for the server.
  const insisting = oauthHome();
  const strict = await listed(
    insisting,
    config(() => ({ grant: 'identity-assertion' })),
  );
  assert.equal(strict.fallback.code, 'identity_assertion_denied');
  assert.deepEqual(
    browserLaunches(insisting).map((url) => new URL(url).origin),
    [idp.issuer],
  );
});

test('an access token the server no longer accepts is renewed by a new exchange, without a browser', async () => {
  const { idp, servers, config } = await enterprise(['a']);
  const env = oauthHome();
  const gw = await serve(env, config());
  await waitForTools(gw, 'a');
  assert.equal(grants(servers.a).length, 1);
  servers.a.expireAccessTokens();
  assert.equal(await echo(gw, 'a', 'again'), 'a:again');
  assert.equal(grants(servers.a).length, 2);
  assert.equal(idp.records.exchanges.length, 2);
  assert.equal(browserLaunches(env).length, 1);
});

test('an ended identity provider session leads to exactly one sign-in, for every server', async () => {
  const { idp, config } = await enterprise(['a', 'b', 'c']);
  const env = oauthHome();
  const first = await serve(env, config());
  for (const name of ['a', 'b', 'c']) await waitForTools(first, name);
  await first.close();

  idp.revokeRefreshTokens();
  expireEverything(env);
  const gw = await serve(env, config());
  for (const name of ['a', 'b', 'c']) await waitForTools(gw, name);
  const refreshes = idp.records.tokenRequests.filter((r) => r.grant_type === 'refresh_token');
  assert.deepEqual(
    refreshes.map((r) => r.status),
    [400],
    'one refresh of the IdP session, refused',
  );
  assert.equal(idp.records.authorizeRequests.length, 2, 'the first sign-in and exactly one more');
  assert.equal(browserLaunches(env).length, 2);
});

test('tampered ID-JAGs are refused by the authorization server and reported as such', async () => {
  const kinds = ['aud', 'iss', 'expired', 'signature'];
  const { idp, servers, config } = await enterprise(kinds);
  idp.knobs.idJagTamper = Object.fromEntries(kinds.map((kind) => [servers[kind].mcpUrl, kind]));
  const env = oauthHome();
  const states = await listed(env, config());
  for (const kind of kinds) {
    assert.equal(states[kind].state, 'failed', kind);
    assert.equal(states[kind].code, 'identity_assertion_rejected', kind);
    assert.match(states[kind].reason, new RegExp(`${kind}'s authorization server refused the identity provider's grant \\(invalid_grant`));
    assert.deepEqual(
      servers[kind].records.jwtBearer.map((r) => r.error),
      ['invalid_grant'],
    );
  }
  assert.match(states.aud.reason, /\(aud\)/);
  assert.match(states.iss.reason, /\(iss\)/);
  assert.match(states.expired.reason, /ERR_JWT_EXPIRED/);
  assert.match(states.signature.reason, /ERR_JWS_SIGNATURE_VERIFICATION_FAILED/);
});

test('tampered ID tokens are refused by the gateway, said clearly, and never stored', async () => {
  const { idp, config } = await enterprise(['a']);
  const env = oauthHome();
  const path = writeConfig(config());
  const expected = {
    aud: /its audience \(aud\) is "another-client", not this client \(gateway\)/,
    iss: /its issuer \(iss\) is "https:\/\/other-idp.example"/,
    expired: /it has expired/,
    signature: /its signature does not verify/,
    nonce: /its nonce is not the one this sign-in sent/,
  };
  for (const [kind, words] of Object.entries(expected)) {
    idp.knobs.idTokenTamper = kind;
    const result = await runCli(['auth', 'login', '--idp', '--config', path], { env: oauthEnv(env) });
    assert.equal(result.status, 1, kind);
    assert.match(result.stderr, /the identity provider sign-in failed: .*the identity provider's ID token was refused/, kind);
    assert.match(result.stderr, words, kind);
    const status = JSON.parse((await runCli(['auth', 'status', '--json', '--config', path], { env: oauthEnv(env) })).stdout);
    assert.equal(status.identityProvider.signedIn, false, kind);
  }
  // A server that needs the sign-in reports it with its code.
  idp.knobs.idTokenTamper = 'aud';
  const states = await listed(oauthHome(), config());
  assert.equal(states.a.code, 'id_token_invalid');
});

test('auth login --idp signs in, auth status shows who, auth logout --idp revokes and forgets it', async () => {
  const { idp, config } = await enterprise(['a']);
  const env = oauthHome();
  const path = writeConfig(config());
  const login = await runCli(['auth', 'login', '--idp', '--config', path], { env: oauthEnv(env) });
  assert.equal(login.status, 0, login.stderr);
  assert.match(login.stdout, /Signed in to the identity provider as alice@example\.com/);

  const status = JSON.parse((await runCli(['auth', 'status', '--json', '--config', path], { env: oauthEnv(env) })).stdout);
  assert.equal(status.identityProvider.issuer, idp.issuer);
  assert.equal(status.identityProvider.signedIn, true);
  assert.equal(status.identityProvider.subject, 'alice');
  assert.equal(status.identityProvider.refreshToken, true);
  assert.ok(!status.servers.some((server) => server.url === idp.issuer), 'the sign-in is not listed as a server');
  const text = (await runCli(['auth', 'status', '--config', path], { env: oauthEnv(env) })).stdout;
  assert.match(text, /identity provider .* signed in as alice@example\.com/s);
  assert.ok(!text.includes('eyJ'), 'no token printed');

  const logout = await runCli(['auth', 'logout', '--idp', '--config', path], { env: oauthEnv(env) });
  assert.equal(logout.status, 0, logout.stderr);
  assert.match(logout.stdout, /identity provider .*: revoked the refresh token and the access token .*; deleted the local login/);
  assert.deepEqual(idp.records.revocations.map((r) => [r.token_type_hint, r.known]).sort(), [
    ['access_token', false],
    ['refresh_token', true],
  ]);
  const after = JSON.parse((await runCli(['auth', 'status', '--json', '--config', path], { env: oauthEnv(env) })).stdout);
  assert.equal(after.identityProvider.signedIn, false);
});

test('an ID token the host hands over (MCP_GATEWAY_ID_TOKEN) replaces the sign-in', async () => {
  const { idp, config } = await enterprise(['a']);
  const path = writeConfig(config());
  // The host signed the user in itself (here: a sign-in in another store stands in for it).
  const host = oauthHome();
  assert.equal((await runCli(['auth', 'login', '--idp', '--config', path], { env: oauthEnv(host) })).status, 0);
  const [dir] = readdirSync(join(host.home, 'servers'));
  const idToken = JSON.parse(readFileSync(join(host.home, 'servers', dir, 'tokens.json'), 'utf8')).id_token;

  const env = oauthHome();
  const result = await runCli(['list', '--json', '--config', path], { env: oauthEnv(env, { MCP_GATEWAY_ID_TOKEN: idToken }) });
  assert.equal(JSON.parse(result.stdout).servers[0].state, 'ready', result.stderr);
  assert.equal(browserLaunches(env).length, 0);
  assert.equal(idp.records.authorizeRequests.length, 1, "only the host's sign-in");
  assert.equal(idp.records.exchanges.length, 1);
});
