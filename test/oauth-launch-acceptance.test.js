// A login counts as completed for the browser-launch limit only once the server has accepted
// its token (issue 14): a server that refuses every fresh token cannot make the gateway, a
// later `gateway list` or a restart open another tab within the minute.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { trackedGateways, waitFor } from './helpers/gatewayProcess.js';
import { browserLaunches, oauthEnv, oauthHome, runCli, serverDirs, trackedFixtures, waitForTools } from './helpers/oauthGateway.js';

const fixture = trackedFixtures({ autoApprove: true });
const startGateway = trackedGateways();
const launchRecord = (env) => JSON.parse(readFileSync(join(serverDirs(env)[0], 'browser.json'), 'utf8'));

test('a server that refuses every fresh token: one tab, then no other from this process, a `gateway list` or a restart within the minute', async () => {
  const f = await fixture({ refuseTokens: true });
  const env = oauthHome();
  const gw = await startGateway({ mcpServers: { remote: { url: f.mcpUrl } } }, { env: oauthEnv(env) });
  await waitFor(() => /remote: failed: the server requires an OAuth login \(HTTP 401\)/.test(gw.stderr()), {
    timeoutMs: 20_000,
    what: 'the server failing',
  });
  assert.equal(browserLaunches(env).length, 1, gw.stderr());
  assert.equal(f.records.codes.length, 1, 'one login ran');
  const record = launchRecord(env);
  assert.equal(record.completed, false, 'tokens the server refused do not complete the login');
  assert.equal(typeof record.tokens_at, 'number');

  const list = await runCli(['list', '--config', gw.configPath], { env: oauthEnv(env) });
  const listed = list.stdout + list.stderr;
  assert.match(
    listed,
    /the last login for remote, \d+ s ago, got a token that remote refused; not opening another browser tab automatically \(check what the server expects, e\.g\. its scopes or resource, then restart the gateway in \d+ s or run `gateway auth login remote`\)/,
  );
  assert.equal(browserLaunches(env).length, 1, `no second tab from list:\n${listed}`);
  await gw.close();
  const again = await startGateway(gw.configPath, { env: oauthEnv(env) });
  let restarted = '';
  await waitFor(() => /got a token that remote refused/.test((restarted = again.stderr())), {
    timeoutMs: 20_000,
    what: 'the refusal after a restart',
  }).catch((error) => {
    throw new Error(`${error.message}\n${restarted}`);
  });
  assert.equal(browserLaunches(env).length, 1, `no second tab after a restart:\n${restarted}`);
});

test('a server that accepts the token: the login is completed (a second login within the minute may open a tab)', async () => {
  const f = await fixture();
  const env = oauthHome();
  const gw = await startGateway({ mcpServers: { remote: { url: f.mcpUrl } } }, { env: oauthEnv(env) });
  await waitForTools(gw, 'remote');
  await waitFor(() => launchRecord(env).completed === true, { what: 'the launch record completed' });
  assert.equal(launchRecord(env).tokens_at, undefined);
  f.revokeAll({ refresh: true });
  f.knobs.issueRefreshTokens = false;
  await gw.client.callTool({ name: 'remote__echo', arguments: { text: 'x' } }).catch(() => {});
  await waitFor(() => browserLaunches(env).length === 2, { timeoutMs: 20_000, what: `a second tab\n${gw.stderr()}` });
});

test('judgeLaunch: tokens the server has not accepted keep the launch unfinished for the minute, with what to do', async () => {
  const { judgeLaunch, launchRefusalMessage } = await import('../dist/oauth/browserLaunches.js');
  const T0 = 1_700_000_000_000;
  const record = { launches: [T0], completed: false, tokens_at: T0 + 5000 };
  assert.deepEqual(judgeLaunch(record, T0 + 20_000), { because: 'not-accepted', agoS: 15, retryInS: 40 });
  assert.equal(judgeLaunch(record, T0 + 60_000), undefined);
  assert.equal(judgeLaunch({ ...record, completed: true, tokens_at: undefined }, T0 + 20_000), undefined, 'accepted: completed');
  assert.match(
    launchRefusalMessage({ because: 'not-accepted', agoS: 15, retryInS: 40 }, 'docs'),
    /^the last login for docs, 15 s ago, got a token that docs refused; not opening another browser tab automatically/,
  );
});
