// Issue 14, first part: the RFC 8707 resource is always bound, and what discovery trusts.
// End to end: `gateway serve` as a child process against the test authorization server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stdioServer } from './helpers/gatewayProcess.js';
import { oauthHome, browserLaunches, trackedOAuthGateways, echo, waitFor, trackedFixtures } from './helpers/oauthGateway.js';

const gateway = trackedOAuthGateways();
const fixture = trackedFixtures({ autoApprove: true });
const failedLogin = /\[remote\] (?:warn: )?failed: login failed: /;

test('resource is sent without protected resource metadata too (a 2025-03-26 server): the canonical server URL in the authorization, token and refresh requests', async () => {
  // requireResource (default): the MCP server takes only tokens bound to its own URL.
  const f = await fixture({ separateOrigin: false, prmLocation: 'none' });
  const env = oauthHome();
  const gw = await gateway(env, { remote: { url: f.mcpUrl } }, { waitForPrefix: 'remote' });
  assert.equal(new URL(browserLaunches(env)[0]).searchParams.get('resource'), f.mcpUrl);
  f.expireAccessTokens();
  assert.equal(await echo(gw, 'remote'), 'oauth:hi');
  assert.deepEqual(
    f.records.tokenRequests.map((r) => [r.grant_type, r.resource]),
    [
      ['authorization_code', f.mcpUrl],
      ['refresh_token', f.mcpUrl],
    ],
  );
  await gw.close();
});

test('resource: false still omits it on a 2025-03-26 server', async () => {
  const f = await fixture({ separateOrigin: false, prmLocation: 'none', requireResource: false });
  const env = oauthHome();
  const gw = await gateway(env, { remote: { url: f.mcpUrl, oauth: { resource: false } } }, { waitForPrefix: 'remote' });
  assert.equal(new URL(browserLaunches(env)[0]).searchParams.get('resource'), null);
  assert.deepEqual(
    f.records.tokenRequests.map((r) => r.resource),
    [undefined],
  );
  await gw.close();
});

test('protected resource metadata for another resource is refused before the authorization server it names gets any request (RFC 9728 §3.3)', async () => {
  const f = await fixture({ resource: 'https://elsewhere.example/mcp' });
  const env = oauthHome();
  const gw = await gateway(env, { remote: { url: f.mcpUrl }, local: stdioServer('local') }, { waitForPrefix: 'local' });
  await waitFor(() => failedLogin.test(gw.stderr()), { what: 'the refusal' });
  assert.match(gw.stderr(), /protected resource metadata at \S+ is for https:\/\/elsewhere\.example\/mcp, not for this server/);
  assert.deepEqual(
    f.records.requests.filter((r) => r.at === 'as'),
    [],
    'nothing was asked of the authorization server',
  );
  assert.equal(browserLaunches(env).length, 0);
  await gw.close();
});

test('2025-03-26 server: metadata at its origin naming an issuer on that origin with a path is accepted, and the callback iss is held to that issuer', async () => {
  const tenant = (real) => `${real}tenant`;
  const f = await fixture({ separateOrigin: false, prmLocation: 'none', issuer: tenant, iss: 'published' });
  const env = oauthHome();
  const gw = await gateway(env, { remote: { url: f.mcpUrl } }, { waitForPrefix: 'remote' });
  assert.equal(await echo(gw, 'remote'), 'oauth:hi');
  assert.match(gw.stderr(), /its metadata names the issuer http:\/\/127\.0\.0\.1:\d+\/tenant/);
  await gw.close();

  // The same server sending its origin as iss: not the issuer its metadata names.
  const g = await fixture({ separateOrigin: false, prmLocation: 'none', issuer: tenant, iss: 'on' });
  const env2 = oauthHome();
  const gw2 = await gateway(env2, { remote: { url: g.mcpUrl }, local: stdioServer('local') }, { waitForPrefix: 'local' });
  await waitFor(() => failedLogin.test(gw2.stderr()), { what: 'the refusal' });
  assert.match(
    gw2.stderr(),
    /iss \(http:\/\/127\.0\.0\.1:\d+\/\) is not the authorization server's issuer http:\/\/127\.0\.0\.1:\d+\/tenant/,
  );
  await gw2.close();
});

test('2025-03-26 server: metadata at its origin naming an issuer on another origin is refused, with no browser', async () => {
  const f = await fixture({ separateOrigin: false, prmLocation: 'none', issuer: 'https://as.elsewhere.example/tenant' });
  const env = oauthHome();
  const gw = await gateway(env, { remote: { url: f.mcpUrl }, local: stdioServer('local') }, { waitForPrefix: 'local' });
  await waitFor(() => failedLogin.test(gw.stderr()), { what: 'the refusal' });
  assert.match(gw.stderr(), /names the issuer https:\/\/as\.elsewhere\.example\/tenant, on another origin/);
  assert.equal(browserLaunches(env).length, 0);
  await gw.close();
});
