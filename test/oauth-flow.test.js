// OAuth end to end: `gateway serve` as a real child process, the SDK's client on the upstream
// side, and the test authorization server (built on the SDK's server auth) with its
// protected MCP server on 127.0.0.1. The browser is MCP_GATEWAY_BROWSER: a stand-in that
// follows the authorization server's redirects, or (in one test) headless Chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { stdioServer } from './helpers/gatewayProcess.js';
import {
  oauthHome,
  oauthEnv,
  browserLaunches,
  browserLogText,
  serverDirs,
  storedTokens,
  expireStoredTokens,
  untilRefreshDue,
  startOAuthGateway,
  waitForTools,
  echo,
  runCli,
  waitFor,
  toolNames,
  CHROMIUM_BROWSER,
  trackedFixtures,
  followRedirects,
} from './helpers/oauthGateway.js';
import { GATEWAY, killedAtEnd, startGateway, waitForState } from './helpers/gatewayProcess.js';
import { chromiumPath, testNeeding } from './helpers/prerequisites.js';

const running = killedAtEnd();
const fixture = trackedFixtures();
async function gateway(env, servers, options) {
  const gw = await startOAuthGateway(env, servers, options);
  running.push(gw);
  return gw;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const grants = (f, type) => f.records.tokenRequests.filter((r) => r.grant_type === type);

/** Waits until gateway__status shows the server failed; its reason, as the status says it ("It failed (why); …"). */
async function failure(gw, name = 'remote') {
  return (await waitForState(gw, name, 'failed')).what_to_do;
}

test('first connect: 401 → discovery → DCR → PKCE login in the browser → tools served; the store is private', async () => {
  const f = await fixture({ autoApprove: true });
  const env = oauthHome();
  const gw = await gateway(env, { remote: { url: f.mcpUrl } }, { waitForPrefix: 'remote' });
  assert.equal(await echo(gw, 'remote'), 'oauth:hi');

  // One browser launch, with a proper authorization request.
  const launches = browserLaunches(env);
  assert.equal(launches.length, 1);
  const request = new URL(launches[0]);
  assert.equal(request.origin, new URL(f.issuer).origin);
  assert.equal(request.searchParams.get('code_challenge_method'), 'S256');
  assert.match(request.searchParams.get('code_challenge'), /^[A-Za-z0-9_-]{43}$/);
  assert.ok(request.searchParams.get('state').length >= 32);
  assert.equal(request.searchParams.get('resource'), f.mcpUrl);
  assert.match(request.searchParams.get('redirect_uri'), /^http:\/\/127\.0\.0\.1:\d+\/callback$/);

  // Registered as a public client named for the gateway, with the loopback redirect URI.
  assert.equal(f.records.registrations.length, 1);
  const registration = f.records.registrations[0];
  assert.equal(registration.client_name, 'mcp-oauth-gateway');
  assert.equal(registration.token_endpoint_auth_method, 'none');
  assert.deepEqual(registration.grant_types, ['authorization_code', 'refresh_token']);
  assert.deepEqual(registration.redirect_uris, [request.searchParams.get('redirect_uri')]);

  // The store: 0700 directories, 0600 files, tokens with an absolute expiry.
  const [dir] = serverDirs(env);
  for (const path of [env.home, join(env.home, 'servers'), dir]) assert.equal(statSync(path).mode & 0o777, 0o700, path);
  for (const file of readdirSync(dir)) assert.equal(statSync(join(dir, file)).mode & 0o777, 0o600, file);
  assert.deepEqual(
    readdirSync(dir)
      .filter((n) => n.endsWith('.json'))
      .sort(),
    ['browser.json', 'client.json', 'discovery.json', 'server.json', 'tokens.json'],
  );
  const tokens = storedTokens(env);
  assert.ok(tokens.expires_at > Date.now() + 3000_000);
  assert.equal(JSON.parse(readFileSync(join(dir, 'server.json'), 'utf8')).url, f.mcpUrl);

  // No token, code or verifier in the log.
  const log = gw.stderr();
  assert.ok(!log.includes(tokens.access_token) && !log.includes(tokens.refresh_token));
  await gw.close();

  // A restart uses the cache: no browser, no new code exchange.
  const again = await gateway(env, { remote: { url: f.mcpUrl } }, { waitForPrefix: 'remote' });
  assert.equal(await echo(again, 'remote'), 'oauth:hi');
  assert.equal(browserLaunches(env).length, 1);
  assert.equal(grants(f, 'authorization_code').length, 1);
  assert.equal(f.records.registrations.length, 1);
  await again.close();
});

testNeeding(
  'chromium',
  'Chromium end to end: the consent page is clicked in a real browser and the gateway shows its success page',
  async () => {
    const f = await fixture({ autoApprove: false });
    const env = oauthHome();
    const result = join(env.home, 'chromium.json');
    const gw = await gateway(
      env,
      { remote: { url: f.mcpUrl } },
      {
        extraEnv: { MCP_GATEWAY_BROWSER: CHROMIUM_BROWSER, CHROMIUM_RESULT: result, CHROMIUM_PATH: chromiumPath() },
        waitForPrefix: 'remote',
        timeoutMs: 60_000,
      },
    );
    assert.equal(await echo(gw, 'remote'), 'oauth:hi');
    const page = JSON.parse(
      await waitFor(() => existsSync(result) && readFileSync(result, 'utf8'), { what: 'the Chromium result', timeoutMs: 30_000 }),
    );
    assert.equal(page.error, undefined);
    assert.match(page.url, /^http:\/\/127\.0\.0\.1:\d+\/callback\?code=/);
    assert.match(page.heading, /Logged in to remote/);
    assert.match(page.body, /close this tab/i);
    await gw.close();
  },
);

test('pre-registered client from the oauth block (no DCR): fixed callback port, secret from ${ENV}, never logged', async () => {
  const port = await freePort();
  const secret = 'static-secret-value-1234567890';
  const f = await fixture({
    autoApprove: true,
    dcr: false,
    clients: [
      {
        client_id: 'static-client',
        client_secret: secret,
        redirect_uris: [`http://127.0.0.1:${port}/callback`],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
  });
  const env = oauthHome();
  const gw = await gateway(
    env,
    { remote: { url: f.mcpUrl, oauth: { clientId: 'static-client', clientSecret: '${STATIC_SECRET}', callbackPort: port } } },
    { extraEnv: { STATIC_SECRET: secret }, waitForPrefix: 'remote', args: ['--log-level', 'debug'] },
  );
  assert.equal(await echo(gw, 'remote'), 'oauth:hi');
  assert.equal(f.records.registrations.length, 0);
  const request = new URL(browserLaunches(env)[0]);
  assert.equal(request.searchParams.get('client_id'), 'static-client');
  assert.equal(request.searchParams.get('redirect_uri'), `http://127.0.0.1:${port}/callback`);
  assert.deepEqual(
    grants(f, 'authorization_code').map((r) => [r.client_id, r.status]),
    [['static-client', 200]],
  );
  assert.ok(!gw.stderr().includes(secret), 'the client secret is not logged');
  assert.ok(!existsSync(join(serverDirs(env)[0], 'client.json')), 'a static client stays in the config');
  await gw.close();
});

test('an expired access token is refreshed with no browser; with rotation every new refresh token is stored first', async () => {
  // 1 s tokens: the gateway counts one as due for a refresh after 0.75 s (a quarter of its
  // lifetime before expiry), and refreshes it before the next request that would send it.
  const f = await fixture({ autoApprove: true, accessTokenTtl: 1, rotateRefreshTokens: true });
  const env = oauthHome();
  const gw = await gateway(env, { remote: { url: f.mcpUrl } }, { waitForPrefix: 'remote' });
  const first = storedTokens(env);
  for (let round = 1; round <= 2; round++) {
    await untilRefreshDue(env);
    const before = grants(f, 'refresh_token').length;
    assert.equal(await echo(gw, 'remote', `round${round}`), `oauth:round${round}`);
    assert.ok(grants(f, 'refresh_token').length > before, `round ${round}: the due token was refreshed`);
    assert.equal(storedTokens(env).refresh_token, f.records.refreshTokens.at(-1), `round ${round}: the newest refresh token is stored`);
  }
  const refreshes = grants(f, 'refresh_token');
  assert.ok(
    refreshes.every((r) => r.status === 200),
    'no refresh token was replayed',
  );
  const last = storedTokens(env);
  assert.notEqual(last.refresh_token, first.refresh_token);
  assert.notEqual(last.access_token, first.access_token);
  assert.equal(browserLaunches(env).length, 1);
  assert.match(gw.stderr(), /refreshed the access token/);
  await gw.close();
});

test('a revoked access token mid-session: the 401 is cured by one refresh, the call succeeds, no browser', async () => {
  const f = await fixture({ autoApprove: true });
  const env = oauthHome();
  const gw = await gateway(env, { remote: { url: f.mcpUrl } }, { waitForPrefix: 'remote' });
  f.revokeAll();
  assert.equal(await echo(gw, 'remote', 'after-revoke'), 'oauth:after-revoke');
  assert.equal(grants(f, 'refresh_token').length, 1);
  assert.equal(browserLaunches(env).length, 1);
  await gw.close();
});

test('refresh answered with 500s: retried with backoff, no browser, the server is failed with the reason and recovers when the authorization server heals', async () => {
  const f = await fixture({ autoApprove: true });
  const env = oauthHome();
  const gw = await gateway(env, { remote: { url: f.mcpUrl }, local: stdioServer('local') }, { waitForPrefix: 'remote' });
  f.knobs.tokenFault = { kind: '500', grant: 'refresh_token' };
  f.expireAccessTokens();
  const result = await gw.client.callTool({ name: 'remote__echo', arguments: { text: 'x' } }).catch((error) => ({ thrown: error }));
  const message = result.thrown?.message ?? JSON.stringify(result);
  assert.match(message, /token refresh failed 4 times.*HTTP 500/s);
  assert.match(message, /retrying in the background/);
  assert.equal(grants(f, 'refresh_token').length, 4, 'a bounded number of tries');
  assert.match(gw.stderr(), /token refresh failed .*retrying in \d/);
  // The other server is untouched; the failed one says why, and its tools are withdrawn.
  assert.equal(await echo(gw, 'local'), 'local:hi');
  assert.match(await failure(gw), /token refresh failed 4 times.*HTTP 500/);
  assert.ok(!(await toolNames(gw.client)).includes('remote__echo'));
  // Heal: the slow retry reconnects with a refresh, still no browser.
  f.knobs.tokenFault = undefined;
  await waitForTools(gw, 'remote', 20_000);
  assert.equal(await echo(gw, 'remote', 'healed'), 'oauth:healed');
  assert.equal(browserLaunches(env).length, 1);
  await gw.close();
});

test('invalid_grant on refresh: the tokens are dropped and exactly one new login runs', async () => {
  const f = await fixture({ autoApprove: true });
  const env = oauthHome();
  const gw = await gateway(env, { remote: { url: f.mcpUrl } }, { waitForPrefix: 'remote' });
  f.revokeAll({ refresh: true });
  // The call that meets the dead grant fails with what is happening; the login runs behind it.
  await gw.client.callTool({ name: 'remote__echo', arguments: { text: 'x' } }).catch(() => {});
  await waitFor(() => browserLaunches(env).length === 2, { what: 'the second login' });
  await waitForTools(gw, 'remote');
  assert.equal(await echo(gw, 'remote', 'again'), 'oauth:again');
  await sleep(300);
  assert.equal(browserLaunches(env).length, 2);
  assert.equal(grants(f, 'authorization_code').length, 2);
  assert.equal(f.records.registrations.length, 1, 'the registration is kept');
  assert.match(gw.stderr(), /refresh token was refused/);
  await gw.close();
});

test('invalid_client on refresh: the registration is dropped, the gateway registers again and logs in', async () => {
  const f = await fixture({ autoApprove: true });
  const env = oauthHome();
  const gw = await gateway(env, { remote: { url: f.mcpUrl } }, { waitForPrefix: 'remote' });
  const firstClient = f.records.registrations[0].client_id;
  f.forgetClients();
  f.expireAccessTokens();
  await gw.client.callTool({ name: 'remote__echo', arguments: { text: 'x' } }).catch(() => {});
  await waitFor(() => f.records.registrations.length === 2 && browserLaunches(env).length === 2, { what: 'a new registration and login' });
  await waitForTools(gw, 'remote');
  assert.equal(await echo(gw, 'remote', 'again'), 'oauth:again');
  const client = JSON.parse(readFileSync(join(serverDirs(env)[0], 'client.json'), 'utf8'));
  assert.notEqual(client.client_id, firstClient);
  assert.equal(client.client_id, f.records.registrations[1].client_id);
  await gw.close();
});

test('two gateway processes started together on an empty store: exactly one browser launch, both connected', async () => {
  const f = await fixture({ autoApprove: true });
  const env = oauthHome();
  const servers = { remote: { url: f.mcpUrl } };
  // The user approves only once both are waiting for the login (one with the browser open, the
  // other for the store's lock): however loaded the machine, the two overlap.
  const extraEnv = { FAKE_BROWSER_MODE: 'ignore' };
  const [a, b] = await Promise.all([gateway(env, servers, { extraEnv }), gateway(env, servers, { extraEnv })]);
  await Promise.all([waitForState(a, 'remote', 'needs-auth'), waitForState(b, 'remote', 'needs-auth')]);
  await waitFor(() => browserLaunches(env).length === 1, { what: 'the browser launch' });
  await followRedirects(browserLaunches(env)[0]);
  await Promise.all([waitForTools(a, 'remote'), waitForTools(b, 'remote')]);
  assert.equal(await echo(a, 'remote', 'a'), 'oauth:a');
  assert.equal(await echo(b, 'remote', 'b'), 'oauth:b');
  assert.equal(browserLaunches(env).length, 1);
  assert.equal(f.records.registrations.length, 1);
  assert.equal(grants(f, 'authorization_code').length, 1);
  assert.match(a.stderr() + b.stderr(), /using the login another gateway process just completed/);
  await Promise.all([a.close(), b.close()]);
});

test('five processes refreshing one rotating token at once: one refresh, no replay, no browser, all connected', async () => {
  const f = await fixture({ autoApprove: true, rotateRefreshTokens: true });
  const env = oauthHome();
  const servers = { remote: { url: f.mcpUrl } };
  const first = await gateway(env, servers, { waitForPrefix: 'remote' });
  await first.close();
  // The stored access token has expired: every process must refresh at connect. The refreshed
  // one lives an hour, so however slowly the five start, the last still finds it good.
  expireStoredTokens(env);
  const gateways = await Promise.all(Array.from({ length: 5 }, () => gateway(env, servers, { waitForPrefix: 'remote' })));
  for (const [i, gw] of gateways.entries()) assert.equal(await echo(gw, 'remote', `p${i}`), `oauth:p${i}`);
  const refreshes = grants(f, 'refresh_token');
  assert.equal(refreshes.length, 1, 'the siblings used the refreshed token from the store');
  assert.equal(refreshes[0].status, 200);
  assert.equal(
    browserLaunches(env).length,
    1,
    `one browser launch; the gateways said:\n${[first, ...gateways].map((gw) => gw.stderr()).join('\n-----\n')}`,
  );
  await Promise.all(gateways.map((gw) => gw.close()));
});

test('a callback with a wrong state gets a 400 page and the listener keeps waiting for the right one', async () => {
  const f = await fixture({ autoApprove: true });
  const env = oauthHome();
  const gw = await gateway(
    env,
    { remote: { url: f.mcpUrl } },
    { extraEnv: { FAKE_BROWSER_MODE: 'tamper-state' }, waitForPrefix: 'remote' },
  );
  assert.match(browserLogText(env), /forged-state-answer 400/);
  assert.equal(await echo(gw, 'remote'), 'oauth:hi');
  await gw.close();
});

test('access_denied at the authorization server: a clean failure with its message; other servers serve; no second browser', async () => {
  const f = await fixture({ autoApprove: true, authorizeError: 'access_denied' });
  const env = oauthHome();
  const gw = await gateway(env, { remote: { url: f.mcpUrl }, local: stdioServer('local') }, { waitForPrefix: 'local' });
  assert.match(await failure(gw), /login failed: .*access_denied.*The user said no/);
  assert.equal(await echo(gw, 'local'), 'local:hi');
  await gw.close();
  // A restart within the minute does not open another tab: the failure is reported, not looped.
  const again = await gateway(env, { remote: { url: f.mcpUrl }, local: stdioServer('local') }, { waitForPrefix: 'local' });
  const held = await waitForState(again, 'remote', 'needs-auth');
  assert.equal(held.login_url, undefined, 'no login under way');
  assert.match(held.what_to_do, /gateway auth login remote/);
  await waitFor(
    () =>
      /\[remote\] (?:warn: )?needs a login: .*(?:failed \d+ s ago|did not complete); not opening another browser tab/.test(again.stderr()),
    { what: 'the rate limit' },
  );
  assert.equal(browserLaunches(env).length, 1);
  await again.close();
});

test('an iss parameter that is not the issuer (RFC 9207) is rejected', async () => {
  const f = await fixture({ autoApprove: true, iss: 'wrong' });
  const env = oauthHome();
  const gw = await gateway(env, { remote: { url: f.mcpUrl } });
  assert.match(await failure(gw), /login failed: .*iss/);
  assert.equal(grants(f, 'authorization_code').length, 0, 'the code was never exchanged');
  await gw.close();
});

test('callback timeout: the login fails cleanly and the loopback listener is closed', async () => {
  const f = await fixture({ autoApprove: true });
  const env = oauthHome();
  const config = { gateway: { callbackTimeout: 1000 }, mcpServers: { remote: { url: f.mcpUrl } } };
  const gw = await startGateway(config, { env: oauthEnv(env, { FAKE_BROWSER_MODE: 'ignore' }) });
  running.push(gw);
  assert.match(await failure(gw), /login failed: .*(timed out|within)/);
  const redirect = new URL(new URL(browserLaunches(env)[0]).searchParams.get('redirect_uri'));
  await assert.rejects(fetch(redirect), /fetch failed/);
  await gw.close();
});

test('the configured callback port is taken: that server fails with what to do, the others serve', async () => {
  const blocker = createServer();
  await new Promise((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = blocker.address().port;
  try {
    const f = await fixture({
      autoApprove: true,
      dcr: false,
      clients: [{ client_id: 'static', redirect_uris: [`http://127.0.0.1:${port}/callback`], token_endpoint_auth_method: 'none' }],
    });
    const env = oauthHome();
    const gw = await gateway(
      env,
      { remote: { url: f.mcpUrl, oauth: { clientId: 'static', callbackPort: port } }, local: stdioServer('local') },
      { waitForPrefix: 'local' },
    );
    assert.match(await failure(gw), new RegExp(`login failed: .*${port}.*callbackPort`));
    assert.equal(await echo(gw, 'local'), 'local:hi');
    assert.equal(browserLaunches(env).length, 0);
    await gw.close();
  } finally {
    blocker.close();
  }
});

test('a token for server A is never sent to server B (two servers, two authorization servers, one store)', async () => {
  const a = await fixture({ autoApprove: true, name: 'a' });
  const b = await fixture({ autoApprove: true, name: 'b' });
  const env = oauthHome();
  const gw = await gateway(env, { a: { url: a.mcpUrl }, b: { url: b.mcpUrl } }, { waitForPrefix: 'a' });
  await waitForTools(gw, 'b');
  a.expireAccessTokens();
  b.expireAccessTokens();
  assert.equal(await echo(gw, 'a'), 'a:hi');
  assert.equal(await echo(gw, 'b'), 'b:hi');
  assert.deepEqual([grants(a, 'refresh_token').length, grants(b, 'refresh_token').length], [1, 1], 'each refreshed once');
  assert.equal(serverDirs(env).length, 2);
  const bearer = (token) => `Bearer ${token}`;
  for (const token of a.records.accessTokens)
    assert.ok(!b.records.authorizationHeaders.some((h) => h.value === bearer(token)), 'A token at B');
  for (const token of b.records.accessTokens)
    assert.ok(!a.records.authorizationHeaders.some((h) => h.value === bearer(token)), 'B token at A');
  assert.ok(a.mcpAuthorizations().length > 0 && b.mcpAuthorizations().length > 0);
  // And neither authorization server ever received a bearer token.
  assert.equal(a.records.authorizationHeaders.filter((h) => h.at === 'as').length, 0);
  await gw.close();
});

test('a corrupt token file is reported and leads to a fresh login, never a crash', async () => {
  const f = await fixture({ autoApprove: true });
  const env = oauthHome();
  const first = await gateway(env, { remote: { url: f.mcpUrl } }, { waitForPrefix: 'remote' });
  await first.close();
  const tokensFile = join(serverDirs(env)[0], 'tokens.json');
  writeFileSync(tokensFile, '{"access_token": "trunc');
  rmSync(join(serverDirs(env)[0], 'browser.json'));
  const gw = await gateway(env, { remote: { url: f.mcpUrl } }, { waitForPrefix: 'remote' });
  // The tools are listed from the catalog cache at once; a call waits for the login behind them.
  assert.equal(await echo(gw, 'remote'), 'oauth:hi');
  assert.match(gw.stderr(), /tokens\.json: unreadable tokens file .*fresh login/);
  assert.equal(browserLaunches(env).length, 2);
  assert.ok(storedTokens(env).access_token, 'a good file again');
  await gw.close();
});

test('tokens that cannot be saved are kept in memory: no browser, the rotated refresh token is not lost, saved once possible', async () => {
  const f = await fixture({ autoApprove: true, rotateRefreshTokens: true });
  const env = oauthHome();
  const first = await gateway(env, { remote: { url: f.mcpUrl } }, { waitForPrefix: 'remote' });
  await first.close();
  // Make tokens.json unwritable (a non-empty directory in its place; permissions do not stop root).
  const tokensFile = join(serverDirs(env)[0], 'tokens.json');
  const saved = readFileSync(tokensFile, 'utf8');
  const gw = await gateway(env, { remote: { url: f.mcpUrl } }, { waitForPrefix: 'remote' });
  // The tools are listed from the catalog cache at once: a call makes sure the stored tokens were read before the file is blocked.
  assert.equal(await echo(gw, 'remote', 'r0'), 'oauth:r0');
  rmSync(tokensFile);
  mkdirSync(join(tokensFile, 'blocker'), { recursive: true });
  for (let round = 1; round <= 2; round++) {
    f.expireAccessTokens();
    assert.equal(await echo(gw, 'remote', `r${round}`), `oauth:r${round}`);
  }
  assert.match(gw.stderr(), /could not save the tokens .*keeping them in memory/);
  assert.deepEqual(
    grants(f, 'refresh_token').map((r) => r.status),
    [200, 200],
    'each round refreshed with the refresh token the last one returned, never replayed',
  );
  assert.equal(browserLaunches(env).length, 1);
  rmSync(tokensFile, { recursive: true });
  await waitFor(() => existsSync(tokensFile) && statSync(tokensFile).isFile(), { what: 'the retried save', timeoutMs: 15_000 });
  assert.notEqual(JSON.parse(readFileSync(tokensFile, 'utf8')).refresh_token, JSON.parse(saved).refresh_token);
  assert.equal(
    JSON.parse(readFileSync(tokensFile, 'utf8')).refresh_token,
    f.records.refreshTokens.at(-1),
    'the newest rotated token was saved',
  );
  await waitFor(() => /saved the tokens that could not be saved before/.test(gw.stderr()), { what: 'the line that says so' });
  await gw.close();
});

test('startup stays responsive: a server waiting for login is needs-auth; its tools arrive with list_changed when the login completes', async () => {
  const f = await fixture({ autoApprove: true });
  const env = oauthHome();
  // The first list waits for a login under way only as long as gateway.startupTimeout (20 s by default).
  const config = { gateway: { startupTimeout: 1000 }, mcpServers: { remote: { url: f.mcpUrl }, local: stdioServer('local') } };
  const gw = await startGateway(config, { env: oauthEnv(env, { FAKE_BROWSER_MODE: 'ignore' }) });
  running.push(gw);
  await waitForTools(gw, 'local');
  await waitFor(() => browserLaunches(env).length === 1, { what: 'the browser launch' });
  assert.ok(!(await toolNames(gw.client)).some((name) => name.startsWith('remote__')));
  assert.equal((await waitForState(gw, 'remote', 'needs-auth')).login_url, browserLaunches(env)[0]);
  const before = gw.notifications.length;
  // The user approves now: follow the authorization server's redirects to the callback.
  await followRedirects(browserLaunches(env)[0]);
  await waitForTools(gw, 'remote');
  await waitFor(() => gw.notifications.slice(before).some((n) => n.method === 'notifications/tools/list_changed'), {
    what: 'list_changed',
  });
  await gw.close();
});

for (const [label, knobs] of [
  ['protected resource metadata at the root well-known URL, not named in the 401', { prmLocation: 'root', prmInHeader: false }],
  ['protected resource metadata only at the URL the 401 names', { prmLocation: 'header' }],
  [
    'path-aware well-known URL, not named in the 401; authorization server on the same origin',
    { prmLocation: 'path', prmInHeader: false, separateOrigin: false },
  ],
]) {
  test(`discovery: ${label}`, async () => {
    const f = await fixture({ autoApprove: true, ...knobs });
    const env = oauthHome();
    const gw = await gateway(env, { remote: { url: f.mcpUrl } }, { waitForPrefix: 'remote' });
    assert.equal(await echo(gw, 'remote'), 'oauth:hi');
    await gw.close();
  });
}

test('scopes: the 401 scope wins; else the metadata scopes_supported; an empty list means no scope; else the config', async () => {
  const cases = [
    [{ challengeScope: 'mcp:tools', scopesSupported: ['a', 'b'] }, { scopes: ['cfg'] }, 'mcp:tools'],
    [{ scopesSupported: ['a', 'b'] }, { scopes: ['cfg'] }, 'a b'],
    [{ scopesSupported: [] }, { scopes: ['cfg'] }, null],
    [{}, { scopes: ['cfg1', 'cfg2'] }, 'cfg1 cfg2'],
    [{}, undefined, null],
  ];
  for (const [knobs, oauth, expected] of cases) {
    const f = await fixture({ autoApprove: true, ...knobs });
    const env = oauthHome();
    const gw = await gateway(env, { remote: { url: f.mcpUrl, ...(oauth ? { oauth } : {}) } }, { waitForPrefix: 'remote' });
    assert.equal(new URL(browserLaunches(env)[0]).searchParams.get('scope'), expected, JSON.stringify(knobs));
    await gw.close();
  }
});

test('resource: false omits the RFC 8707 parameter everywhere (for Entra ID)', async () => {
  const f = await fixture({ autoApprove: true, requireResource: false });
  const env = oauthHome();
  const gw = await gateway(env, { remote: { url: f.mcpUrl, oauth: { resource: false } } }, { waitForPrefix: 'remote' });
  assert.equal(new URL(browserLaunches(env)[0]).searchParams.get('resource'), null);
  assert.equal(f.records.authorizeRequests[0].resource, undefined);
  f.expireAccessTokens();
  assert.equal(await echo(gw, 'remote'), 'oauth:hi');
  assert.deepEqual(
    f.records.tokenRequests.map((r) => [r.grant_type, r.resource]),
    [
      ['authorization_code', undefined],
      ['refresh_token', undefined],
    ],
  );
  await gw.close();
});

test('authServerMetadataUrl from the oauth block is used instead of discovery', async () => {
  const f = await fixture({ autoApprove: true, prmLocation: 'header', prmInHeader: false });
  const env = oauthHome();
  const gw = await gateway(
    env,
    { remote: { url: f.mcpUrl, oauth: { authServerMetadataUrl: `${f.issuer}.well-known/oauth-authorization-server` } } },
    { waitForPrefix: 'remote' },
  );
  assert.equal(await echo(gw, 'remote'), 'oauth:hi');
  await gw.close();
});

for (const [label, knobs, message] of [
  [
    'no code_challenge_methods_supported',
    { pkceMethods: null },
    /does not offer PKCE with S256 \(code_challenge_methods_supported: absent\)/,
  ],
  ['only plain PKCE', { pkceMethods: ['plain'] }, /does not offer PKCE with S256/],
  [
    'an issuer that is not where the metadata was found',
    { issuer: 'https://other.example/' },
    /names a different issuer \(https:\/\/other\.example\/\)/,
  ],
  [
    'an issuer one slash short of the one its resource metadata names (RFC 8414 §3.3: identical)',
    { issuer: (real) => real.replace(/\/$/, '') },
    /names a different issuer \(http:\/\/127\.0\.0\.1:\d+\)/,
  ],
  ['a token_type other than Bearer', { tokenType: 'MAC' }, /token_type "MAC"; only Bearer is supported/],
]) {
  test(`refused: an authorization server with ${label}`, async () => {
    const f = await fixture({ autoApprove: true, ...knobs });
    const env = oauthHome();
    const gw = await gateway(env, { remote: { url: f.mcpUrl }, local: stdioServer('local') }, { waitForPrefix: 'local' });
    const why = await failure(gw);
    assert.match(why, /login failed: /);
    assert.match(why, message);
    assert.equal(await echo(gw, 'local'), 'local:hi');
    if (!knobs.tokenType) assert.equal(browserLaunches(env).length, 0, 'no browser for an unsafe server');
    await gw.close();
  });
}

test('gateway list logs in through the browser when needed and shows the server ready; the next list needs no browser', async () => {
  const f = await fixture({ autoApprove: true });
  const env = oauthHome();
  const dir = join(env.home, 'cfg');
  mkdirSync(dir);
  const configPath = join(dir, '.mcp.json');
  writeFileSync(configPath, JSON.stringify({ mcpServers: { remote: { url: f.mcpUrl } } }));
  const first = await runCli(['list', '--config', configPath], { env: oauthEnv(env) });
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stdout, /✓ remote .*ready \(9 tools\)/);
  assert.match(
    first.stderr,
    /remote: needs-auth: waiting for the login to finish in the browser \(open http:\/\/127\.0\.0\.1:\d+\/authorize\?/,
  );
  assert.equal(first.stderr.split('/authorize?').length - 1, 1, `the login URL once:\n${first.stderr}`);
  const second = await runCli(['list', '--config', configPath, '--json'], { env: oauthEnv(env) });
  assert.equal(JSON.parse(second.stdout).servers[0].state, 'ready');
  assert.equal(browserLaunches(env).length, 1);
});

test('gateway list --no-browser prints the login URL once, with the instructions; approving it there finishes the list', async () => {
  const f = await fixture({ autoApprove: true });
  const env = oauthHome();
  const configPath = join(env.home, '.mcp.json');
  writeFileSync(configPath, JSON.stringify({ mcpServers: { remote: { url: f.mcpUrl } } }));
  const child = spawn(process.execPath, [GATEWAY, 'list', '--no-browser', '--config', configPath], {
    env: { ...process.env, ...oauthEnv(env) },
  });
  running.push({ child });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  const status = new Promise((resolve) => child.on('close', resolve));
  const url = await waitFor(() => stderr.match(/^ {2}(http:\/\/127\.0\.0\.1:\d+\/authorize\?\S+)$/m)?.[1], { what: 'the printed URL' });
  await followRedirects(url);
  assert.equal(await status, 0, stderr);
  assert.match(stderr, /the browser is turned off \(--no-browser\)/);
  assert.equal(stderr.split('/authorize?').length - 1, 1, `the login URL once:\n${stderr}`);
  assert.equal(browserLaunches(env).length, 0);
});

for (const [label, extraEnv, args, why] of [
  ['--no-browser', {}, ['--no-browser'], /the browser is turned off \(--no-browser\)/],
  ['no display on Linux', { MCP_GATEWAY_BROWSER: '', DISPLAY: '', WAYLAND_DISPLAY: '' }, [], /there is no display/],
  [
    'an SSH session',
    { MCP_GATEWAY_BROWSER: '', SSH_CONNECTION: '10.0.0.1 5000 10.0.0.2 22' },
    [],
    /this is an SSH session[\s\S]*ssh -L (\d+):127\.0\.0\.1:\1/,
  ],
]) {
  test(`${label}: the login URL is printed to stderr with instructions, and completing it there connects`, async () => {
    const f = await fixture({ autoApprove: true });
    const env = oauthHome();
    const gw = await gateway(env, { remote: { url: f.mcpUrl } }, { extraEnv, args });
    const url = await waitFor(() => gw.stderr().match(/^ {2}(http:\/\/127\.0\.0\.1:\d+\/authorize\?\S+)$/m)?.[1], {
      what: 'the printed URL',
    });
    assert.match(gw.stderr(), why);
    assert.match(gw.stderr(), /remote needs you to log in/);
    assert.equal(browserLaunches(env).length, 0);
    await followRedirects(url);
    await waitForTools(gw, 'remote');
    await gw.close();
  });
}

for (const kind of ['429', '503']) {
  test(`refresh answered ${kind === '429' ? '429 Too Many Requests' : '503 temporarily_unavailable'}: retried with backoff, recovers, no browser`, async () => {
    const f = await fixture({ autoApprove: true });
    const env = oauthHome();
    const gw = await gateway(env, { remote: { url: f.mcpUrl } }, { waitForPrefix: 'remote' });
    f.knobs.tokenFault = { kind, grant: 'refresh_token', times: 2 };
    f.expireAccessTokens();
    assert.equal(await echo(gw, 'remote', 'x'), 'oauth:x');
    assert.deepEqual(
      grants(f, 'refresh_token').map((r) => r.status),
      [Number(kind), Number(kind), 200],
    );
    assert.equal(browserLaunches(env).length, 1);
    await gw.close();
  });
}

test('a slow token endpoint at connect is not a slow MCP server: the refresh runs before the connect timeout starts', async () => {
  const f = await fixture({ autoApprove: true });
  const env = oauthHome();
  const servers = { remote: { url: f.mcpUrl } };
  const first = await gateway(env, servers, { waitForPrefix: 'remote' });
  await first.close();
  expireStoredTokens(env);
  f.knobs.tokenFault = { kind: 'slow', grant: 'refresh_token', delayMs: 2500, times: 1 };
  const gw = await startGateway({ gateway: { connectTimeout: 1000 }, mcpServers: servers }, { env: oauthEnv(env) });
  running.push(gw);
  await waitForTools(gw, 'remote');
  assert.deepEqual(
    grants(f, 'refresh_token').map((r) => r.status),
    [200],
    'the slow refresh went through, once',
  );
  assert.equal(browserLaunches(env).length, 1);
  await gw.close();
});

test('a registration response without client_id is refused', async () => {
  const f = await fixture({ autoApprove: true, registrationFault: 'no-client-id' });
  const env = oauthHome();
  const gw = await gateway(env, { remote: { url: f.mcpUrl } });
  assert.match(await failure(gw), /login failed: .*client_id/);
  assert.equal(browserLaunches(env).length, 0);
  assert.ok(!existsSync(join(serverDirs(env)[0] ?? env.home, 'client.json')));
  await gw.close();
});

test('a stored registration whose callback port is now taken is dropped and made again on another port', async () => {
  const f = await fixture({ autoApprove: true });
  const env = oauthHome();
  const first = await gateway(env, { remote: { url: f.mcpUrl } }, { waitForPrefix: 'remote' });
  await first.close();
  const dir = serverDirs(env)[0];
  const oldPort = Number(new URL(JSON.parse(readFileSync(join(dir, 'client.json'), 'utf8')).redirect_uri).port);
  const blocker = createServer();
  await new Promise((resolve) => blocker.listen(oldPort, '127.0.0.1', resolve));
  try {
    rmSync(join(dir, 'tokens.json'));
    const gw = await gateway(env, { remote: { url: f.mcpUrl } }, { waitForPrefix: 'remote' });
    // The tools are listed from the catalog cache at once; a call waits for the login behind them.
    assert.equal(await echo(gw, 'remote'), 'oauth:hi');
    assert.match(gw.stderr(), new RegExp(`127\\.0\\.0\\.1:${oldPort} is in use.*registering again with another port`));
    assert.equal(f.records.registrations.length, 2);
    const newPort = Number(new URL(JSON.parse(readFileSync(join(dir, 'client.json'), 'utf8')).redirect_uri).port);
    assert.notEqual(newPort, oldPort);
    await gw.close();
  } finally {
    blocker.close();
  }
});

test('a resource indicator without a path is sent exactly as the metadata names it, in the login and in every refresh', async () => {
  const f = await fixture({ autoApprove: true });
  const origin = new URL(f.mcpUrl).origin;
  f.knobs.resource = origin;
  const env = oauthHome();
  const gw = await gateway(env, { remote: { url: f.mcpUrl } }, { waitForPrefix: 'remote' });
  f.expireAccessTokens();
  assert.equal(await echo(gw, 'remote'), 'oauth:hi');
  assert.equal(new URL(browserLaunches(env)[0]).searchParams.get('resource'), origin);
  assert.deepEqual(
    f.records.tokenRequests.map((r) => [r.grant_type, r.resource]),
    [
      ['authorization_code', origin],
      ['refresh_token', origin],
    ],
  );
  await gw.close();
});

test('an authorization server without RFC 9207 support (no iss) logs in normally', async () => {
  const f = await fixture({ autoApprove: true, iss: 'off' });
  const env = oauthHome();
  const gw = await gateway(env, { remote: { url: f.mcpUrl } }, { waitForPrefix: 'remote' });
  assert.equal(await echo(gw, 'remote'), 'oauth:hi');
  await gw.close();
});

test('a login that failed in one process is not retried in a browser by a second process waiting on the lock', async () => {
  const f = await fixture({ autoApprove: true });
  const env = oauthHome();
  const config = { gateway: { callbackTimeout: 1500 }, mcpServers: { remote: { url: f.mcpUrl } } };
  const options = { env: oauthEnv(env, { FAKE_BROWSER_MODE: 'ignore' }) };
  const [a, b] = await Promise.all([startGateway(config, options), startGateway(config, options)]);
  running.push(a, b);
  const failedLine = /\[remote\] (?:warn: )?(?:failed: login failed|needs a login): /;
  await waitFor(() => failedLine.test(a.stderr()) && failedLine.test(b.stderr()), { what: 'both failures' });
  assert.equal(browserLaunches(env).length, 1);
  assert.match(a.stderr() + b.stderr(), /failed \d+ s ago; not opening another browser tab automatically/);
  await Promise.all([a.close(), b.close()]);
});

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}
