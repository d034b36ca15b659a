// Issue 14, first part: the loopback callback answers only its own Host and refuses repeated
// parameters (the login stays pending, the right callback still succeeds); and the
// authorization URL reaches the info log without its state and code_challenge.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { startLoopbackListener } from '../dist/oauth/loopbackListener.js';
import { killedAtEnd } from './helpers/gatewayProcess.js';
import { oauthHome, browserLaunches, startOAuthGateway, echo, trackedFixtures } from './helpers/oauthGateway.js';

const running = killedAtEnd();
const fixture = trackedFixtures({ autoApprove: true });

/** A GET to the listener on 127.0.0.1 with the Host header given. */
function get(port, path, host) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      let body = '';
      res
        .setEncoding('utf8')
        .on('data', (chunk) => (body += chunk))
        .on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', reject).end();
  });
}

test('the callback listener answers only its own Host, and refuses a repeated code, state or iss; the login stays pending and the right callback succeeds', async () => {
  const listener = await startLoopbackListener(0);
  const { port } = listener;
  const own = `127.0.0.1:${port}`;
  const waiting = listener.waitForCode({ serverName: 'docs', state: 'the-state', issuer: 'https://as.example/', timeoutMs: 10_000 });
  let settled = false;
  void waiting.then(
    () => (settled = true),
    () => (settled = true),
  );
  const good = `/callback?code=the-code&state=the-state&iss=${encodeURIComponent('https://as.example/')}`;

  for (const host of [`rebound.example:${port}`, `127.0.0.1:${port + 1}`, 'localhost', `[::1]:${port}`]) {
    const answer = await get(port, good, host);
    assert.equal(answer.status, 421, host);
    assert.match(answer.body, new RegExp(`answers only at 127\\.0\\.0\\.1:${port}`));
  }
  for (const [name, path] of [
    ['code', `${good}&code=other-code`],
    ['state', `${good}&state=the-state`],
    ['iss', `${good}&iss=${encodeURIComponent('https://as.example/')}`],
  ]) {
    const answer = await get(port, path, own);
    assert.equal(answer.status, 400, name);
    assert.match(answer.body, new RegExp(`carries the ${name} parameter more than once`));
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(settled, false, 'the login is still pending');

  const page = get(port, good, `localhost:${port}`);
  const callback = await waiting;
  assert.equal(callback.code, 'the-code');
  await callback.finish({ ok: true });
  assert.equal((await page).status, 200);
  await listener.close();
});

test('the authorization URL is logged at info without its state and code_challenge, and whole only at debug', async () => {
  const f = await fixture();
  const env = oauthHome();
  const gw = await startOAuthGateway(env, { remote: { url: f.mcpUrl } }, { waitForPrefix: 'remote' });
  running.push(gw);
  assert.equal(await echo(gw, 'remote'), 'oauth:hi');
  const launched = new URL(browserLaunches(env)[0]);
  const line = gw
    .stderr()
    .split('\n')
    .find((l) => /opened the browser to log in to remote/.test(l));
  assert.ok(line, gw.stderr());
  assert.match(line, /the login page: http:\/\/127\.0\.0\.1:\d+\/authorize\?/);
  assert.match(line, /client_id=/);
  assert.ok(!line.includes(launched.searchParams.get('state')) && !/[?&]state=/.test(line), line);
  assert.ok(!line.includes(launched.searchParams.get('code_challenge')) && !/code_challenge=/.test(line), line);
  assert.ok(!gw.stderr().includes(launched.searchParams.get('state')), 'the state is nowhere in the info log');
  await gw.close();

  const g = await fixture();
  const env2 = oauthHome();
  const debug = await startOAuthGateway(env2, { remote: { url: g.mcpUrl } }, { waitForPrefix: 'remote', args: ['--log-level', 'debug'] });
  running.push(debug);
  const state = new URL(browserLaunches(env2)[0]).searchParams.get('state');
  assert.match(debug.stderr(), new RegExp(`debug: the authorization URL: http://127\\.0\\.0\\.1:\\d+/authorize\\?.*state=${state}`));
  await debug.close();
});
