// OAuth end to end: `gateway serve` as a real child process, the SDK's client on the upstream
// side, and the test authorization server (built on the SDK's server auth) with its
// protected MCP server on 127.0.0.1. The browser is MCP_GATEWAY_BROWSER: a stand-in that
// follows the authorization server's redirects, or (in one test) headless Chromium.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startOAuthFixture } from './fixtures/oauth/authServer.js';
import { stdioServer } from './helpers/gatewayProcess.js';
import {
  oauthHome,
  oauthEnv,
  browserLaunches,
  browserLogText,
  serverDirs,
  storedTokens,
  startOAuthGateway,
  waitForTools,
  echo,
  runCli,
  waitFor,
  toolNames,
  CHROMIUM_BROWSER,
} from './helpers/oauthGateway.js';
import { startGateway } from './helpers/gatewayProcess.js';

const running = [];
const fixtures = [];
async function fixture(knobs) {
  const f = await startOAuthFixture(knobs);
  fixtures.push(f);
  return f;
}
async function gateway(env, servers, options) {
  const gw = await startOAuthGateway(env, servers, options);
  running.push(gw);
  return gw;
}
after(async () => {
  for (const gw of running) if (gw.child.exitCode === null) gw.child.kill('SIGKILL');
  for (const f of fixtures) await f.close().catch(() => {});
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const grants = (f, type) => f.records.tokenRequests.filter((r) => r.grant_type === type);

async function serverState(gw, name) {
  // The gateway's own view, as `gateway list` would print it, comes from stderr lines.
  return gw.stderr().split('\n').filter((line) => line.startsWith(`[${name}]`));
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
  assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith('.json')).sort(), ['browser.json', 'client.json', 'discovery.json', 'server.json', 'tokens.json']);
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

test('Chromium end to end: the consent page is clicked in a real browser and the gateway shows its success page', async (t) => {
  if (!existsSync(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium')) {
    if (process.env.SKIP_CHROMIUM === '1') return t.skip('SKIP_CHROMIUM=1 and no Chromium');
    assert.fail('Chromium is not installed at /usr/bin/chromium (apt-get install -y chromium, as .ci/run does; or SKIP_CHROMIUM=1)');
  }
  const f = await fixture({ autoApprove: false });
  const env = oauthHome();
  const result = join(env.home, 'chromium.json');
  const gw = await gateway(env, { remote: { url: f.mcpUrl } }, {
    extraEnv: { MCP_GATEWAY_BROWSER: CHROMIUM_BROWSER, CHROMIUM_RESULT: result },
    waitForPrefix: 'remote',
    timeoutMs: 60_000,
  });
  assert.equal(await echo(gw, 'remote'), 'oauth:hi');
  const page = JSON.parse(await waitFor(() => existsSync(result) && readFileSync(result, 'utf8'), { what: 'the Chromium result', timeoutMs: 30_000 }));
  assert.equal(page.error, undefined);
  assert.match(page.url, /^http:\/\/127\.0\.0\.1:\d+\/callback\?code=/);
  assert.match(page.heading, /Logged in to remote/);
  assert.match(page.body, /close this tab/i);
  await gw.close();
});
