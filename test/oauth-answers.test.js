// Issue 14, first part: what the gateway checks in the registration and token answers of an
// authorization server (RFC 7591 §3.2.1, RFC 6749 §5.1), end to end against the test server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stdioServer } from './helpers/gatewayProcess.js';
import { oauthHome, browserLaunches, serverDirs, trackedOAuthGateways, echo, waitFor, trackedFixtures } from './helpers/oauthGateway.js';

const gateway = trackedOAuthGateways();
const fixture = trackedFixtures({ autoApprove: true });
const failedLogin = /\[remote\] (?:warn: )?failed: login failed: /;

/** A gateway with the OAuth server and a stdio one, waited for until the OAuth server's login failed. */
async function failingLogin(knobs) {
  const f = await fixture(knobs);
  const env = oauthHome();
  const gw = await gateway(env, { remote: { url: f.mcpUrl }, local: stdioServer('local') }, { waitForPrefix: 'local' });
  await waitFor(() => failedLogin.test(gw.stderr()), { what: 'the refusal' });
  return { f, env, gw };
}

test('the registration request says application_type "native" (loopback redirect URI)', async () => {
  const f = await fixture();
  const env = oauthHome();
  const gw = await gateway(env, { remote: { url: f.mcpUrl } }, { waitForPrefix: 'remote' });
  assert.equal(f.records.registrationRequests.length, 1);
  assert.equal(f.records.registrationRequests[0].application_type, 'native');
  await gw.close();
});

for (const [label, registrationAnswer, message] of [
  [
    'redirect_uris without ours',
    { redirect_uris: ['http://127.0.0.1:1/callback'] },
    /redirect_uris \(\["http:\/\/127\.0\.0\.1:1\/callback"\]\) do not include ours \(http:\/\/127\.0\.0\.1:\d+\/callback\) exactly/,
  ],
  [
    'a client secret that has expired',
    { client_secret: 'expired-secret-xyz', client_secret_expires_at: Math.floor(Date.now() / 1000) - 60 },
    /client secret expired already/,
  ],
]) {
  test(`a registration answer with ${label} is refused: no browser, nothing stored`, async () => {
    const { env, gw } = await failingLogin({ registrationAnswer });
    assert.match(gw.stderr(), message);
    assert.equal(browserLaunches(env).length, 0);
    assert.ok(!existsSync(join(serverDirs(env)[0] ?? env.home, 'client.json')), 'no registration stored');
    await gw.close();
  });
}

test('a stored registration whose client secret has expired leads to a new registration', async () => {
  const f = await fixture({
    registrationAnswer: { client_secret: 'short-lived-secret', client_secret_expires_at: Math.floor(Date.now() / 1000) + 3600 },
  });
  const env = oauthHome();
  const first = await gateway(env, { remote: { url: f.mcpUrl } }, { waitForPrefix: 'remote' });
  await first.close();
  const dir = serverDirs(env)[0];
  assert.equal(JSON.parse(readFileSync(join(dir, 'client.json'), 'utf8')).client_secret, 'short-lived-secret');
  rmSync(join(dir, 'tokens.json'));
  f.knobs.registrationAnswer = undefined;
  // The stored secret's lifetime has passed (edited in the store rather than waited for).
  const client = JSON.parse(readFileSync(join(dir, 'client.json'), 'utf8'));
  writeFileSync(join(dir, 'client.json'), JSON.stringify({ ...client, client_secret_expires_at: Math.floor(Date.now() / 1000) - 1 }));
  const gw = await gateway(env, { remote: { url: f.mcpUrl } }, { waitForPrefix: 'remote' });
  assert.equal(await echo(gw, 'remote'), 'oauth:hi');
  assert.equal(f.records.registrations.length, 2, 'registered again');
  assert.equal(JSON.parse(readFileSync(join(dir, 'client.json'), 'utf8')).client_secret, undefined);
  await gw.close();
});

for (const [label, tokenAnswer, message] of [
  ['a negative expires_in', { expires_in: -5 }, /expires_in -5; it must be a non-negative integer of seconds/],
  ['a fractional expires_in', { expires_in: 1.5 }, /expires_in 1\.5; it must be a non-negative integer of seconds/],
  ['a non-numeric expires_in', { expires_in: 'soon' }, /does not have the required form \(expires_in: /],
]) {
  test(`a token answer with ${label} is an invalid answer, never an expired token`, async () => {
    const { gw } = await failingLogin({ tokenAnswer });
    assert.match(gw.stderr(), message);
    assert.doesNotMatch(gw.stderr(), /expired \d+ s ago/);
    await gw.close();
  });
}

test('token_type "bearer" in lower case is Bearer (compared case-insensitively)', async () => {
  const f = await fixture({ tokenAnswer: { token_type: 'bearer' } });
  const env = oauthHome();
  const gw = await gateway(env, { remote: { url: f.mcpUrl } }, { waitForPrefix: 'remote' });
  assert.equal(await echo(gw, 'remote'), 'oauth:hi');
  await gw.close();
});
