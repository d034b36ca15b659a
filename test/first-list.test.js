// What a client that lists tools only once sees (Claude Desktop registers the tools of its first
// tools/list and ignores list_changed): the first lists wait for the servers to settle, a warm
// start answers at once from the catalog cache, and calls wait for a server that is not ready.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, statSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startHttpMcpServer } from './fixtures/http-server.js';
import { trackedGateways, stdioServer, tempDir, writeConfig, waitFor, killedAtEnd } from './helpers/gatewayProcess.js';
import { startOAuthFixture } from './fixtures/oauth/authServer.js';
import { oauthHome, startOAuthGateway, serverDirs, browserLaunches, followRedirects } from './helpers/oauthGateway.js';

const gateway = trackedGateways();
const running = killedAtEnd();
const text = (result) => result.content.map((c) => c.text).join('');
const names = (list) => list.tools.map((tool) => tool.name);
/** The catalog files saved under a gateway home (not the temporary files of a write under way). */
const cached = (home) => {
  try {
    return readdirSync(join(home, 'catalogs')).filter((name) => name.endsWith('.json'));
  } catch {
    return [];
  }
};

test('a client that lists tools once right after initialize sees every tool of three stdio servers and an HTTP server, one slow to start, and why a fifth failed', async (t) => {
  const web = await startHttpMcpServer({ mode: 'streamable', name: 'web' });
  t.after(() => web.close());
  const gw = await gateway({
    mcpServers: {
      a: stdioServer('a'),
      b: stdioServer('b'),
      slow: stdioServer('slow', { FIXTURE_START_DELAY_MS: '3000' }),
      web: { url: web.url },
      broken: stdioServer('broken', { FIXTURE_MODE: 'exit-at-start' }),
    },
  });
  const started = Date.now();
  const first = names(await gw.client.listTools());
  assert.ok(Date.now() - started >= 2000, 'the first list waited for the slow server');
  for (const server of ['a', 'b', 'slow', 'web'])
    assert.ok(first.includes(`${server}__echo`), `${server}'s tools in the first list: ${first}`);
  const status = await gw.client.callTool({ name: 'gateway__status', arguments: {} });
  const broken = status.structuredContent.servers.find((server) => server.name === 'broken');
  assert.equal(broken.state, 'failed');
  assert.match(broken.what_to_do, /fixture told to exit/);
  assert.match(gw.stderr(), /the first list waits for \d servers? to start .*slow/);
});

test('the first list waits no longer than gateway.startupTimeout; the late server follows with list_changed', async () => {
  const gw = await gateway({
    mcpServers: { a: stdioServer('a'), late: stdioServer('late', { FIXTURE_START_DELAY_MS: '7000' }) },
    gateway: { startupTimeout: 3000 },
  });
  const first = names(await gw.client.listTools());
  assert.ok(first.includes('a__echo') && !first.includes('late__echo'), `${first}`);
  assert.match(gw.stderr(), /answering the first list without late: not started after 3000 ms/);
  await waitFor(() => gw.notifications.some((n) => n.method === 'notifications/tools/list_changed'), {
    what: 'list_changed',
    timeoutMs: 15_000,
  });
  assert.ok(names(await gw.client.listTools()).includes('late__echo'));
});

test('a call to a server that is still starting waits for it, with progress, even before its tools are listed', async () => {
  const gw = await gateway({ mcpServers: { slow: stdioServer('slow', { FIXTURE_START_DELAY_MS: '2500' }) } });
  const progress = [];
  const result = await gw.client.callTool({ name: 'slow__echo', arguments: { text: 'waited' } }, undefined, {
    onprogress: (p) => progress.push(p),
  });
  assert.equal(text(result), 'slow:waited');
  assert.ok(progress.length >= 1, 'progress while waiting');
  assert.match(progress[0].message, /waiting for slow to start/);
});

test('warm start: the first tools/list answers at once with the cached tools of a server that now takes 10 s to start; a call to one waits and succeeds', async () => {
  const home = tempDir('gw-home-');
  const delayFile = join(tempDir(), 'delay');
  const config = writeConfig({
    mcpServers: { quick: stdioServer('quick'), slow: stdioServer('slow', { FIXTURE_START_DELAY_FILE: delayFile }) },
  });
  const cold = await gateway(config, { env: { MCP_GATEWAY_HOME: home } });
  assert.ok(names(await cold.client.listTools()).includes('slow__echo'));
  await waitFor(() => cached(home).length === 2, { what: 'both catalogs saved' });
  await cold.close();
  for (const name of ['quick.json', 'slow.json']) assert.equal(statSync(join(home, 'catalogs', name)).mode & 0o777, 0o600);
  assert.equal(statSync(join(home, 'catalogs')).mode & 0o777, 0o700);

  writeFileSync(delayFile, '10000');
  const warm = await gateway(config, { env: { MCP_GATEWAY_HOME: home } });
  const started = Date.now();
  const first = names(await warm.client.listTools());
  assert.ok(Date.now() - started < 1000, `answered in ${Date.now() - started} ms`);
  assert.ok(first.includes('slow__echo') && first.includes('quick__echo'), `${first}`);
  const status = (await warm.client.callTool({ name: 'gateway__status', arguments: {} })).structuredContent.servers;
  const slow = status.find((server) => server.name === 'slow');
  assert.equal(slow.state, 'connecting');
  assert.ok(slow.tools_from_cache, 'the status says the tools are from the cache');
  assert.equal(text(await warm.client.callTool({ name: 'slow__echo', arguments: { text: 'late' } })), 'slow:late');
});

test('a changed config entry is not served from a stale cache', async () => {
  const home = tempDir('gw-home-');
  const dir = tempDir();
  const first = await gateway(writeConfig({ mcpServers: { s: stdioServer('s') } }, dir), { env: { MCP_GATEWAY_HOME: home } });
  await first.client.listTools();
  await waitFor(() => cached(home).length === 1, { what: 'catalog saved' });
  await first.close();
  const edited = await gateway(
    writeConfig({ mcpServers: { s: stdioServer('s', { FIXTURE_EXTRA_TOOLS: '2', FIXTURE_START_DELAY_MS: '1500' }) } }, dir),
    {
      env: { MCP_GATEWAY_HOME: home },
    },
  );
  const started = Date.now();
  const listed = names(await edited.client.listTools());
  assert.ok(Date.now() - started >= 1000, 'the first list waited for the edited server');
  assert.ok(listed.includes('s__tool_1'), `the edited server's live tools: ${listed}`);
  await waitFor(() => /tool_1/.test(readFileSync(join(home, 'catalogs', 's.json'), 'utf8')), { what: 'the cache rewritten' });
});

test("each server is told only the client capabilities the gateway's client declared", async () => {
  const cases = [
    ['none', {}, {}],
    ['some', { roots: { listChanged: true } }, { roots: { listChanged: true } }],
    [
      'all',
      { sampling: {}, elicitation: { form: {} }, roots: { listChanged: true } },
      { sampling: {}, elicitation: { form: {} }, roots: { listChanged: true } },
    ],
  ];
  for (const [label, declared, expected] of cases) {
    const capsFile = join(tempDir(), 'caps');
    const gw = await gateway(
      { mcpServers: { s: stdioServer('s', { FIXTURE_CAPS_FILE: capsFile }) } },
      { clientOptions: { capabilities: declared } },
    );
    await gw.client.listTools();
    assert.deepEqual(JSON.parse(readFileSync(capsFile, 'utf8').trim()), expected, label);
    await gw.close();
  }
});

test("the gateway's instructions carry each server's instructions from the catalog cache", async () => {
  const home = tempDir('gw-home-');
  const config = writeConfig({
    mcpServers: { notes: stdioServer('notes', { FIXTURE_INSTRUCTIONS: 'Search notes before creating one.' }), plain: stdioServer('plain') },
  });
  const first = await gateway(config, { env: { MCP_GATEWAY_HOME: home } });
  await first.client.listTools();
  assert.equal(first.client.getInstructions(), undefined, 'a server seen for the first time contributes from the next start on');
  await waitFor(() => cached(home).length === 2, { what: 'catalogs saved' });
  await first.close();
  const second = await gateway(config, { env: { MCP_GATEWAY_HOME: home } });
  const instructions = second.client.getInstructions();
  assert.match(instructions, /## notes\nSearch notes before creating one\./);
  assert.doesNotMatch(instructions, /## plain/);
});

test('a call to a tool of a server waiting for its login (tools shown from the cache) joins that one login and succeeds once it completes; with no login in time it returns the URL', async (t) => {
  const f = await startOAuthFixture({ autoApprove: true });
  t.after(() => f.close());
  const env = oauthHome();
  const servers = { remote: { url: f.mcpUrl } };
  const first = await startOAuthGateway(env, servers, { waitForPrefix: 'remote' });
  await waitFor(() => cached(env.home).includes('remote.json'), { what: 'the catalog saved' });
  await first.close();
  rmSync(join(serverDirs(env)[0], 'tokens.json')); // The login is gone: the next start needs a new one.
  const launchedBefore = browserLaunches(env).length;

  const gw = await startOAuthGateway(env, servers, { extraEnv: { FAKE_BROWSER_MODE: 'ignore', MCP_GATEWAY_LOGIN_WAIT_MS: '4000' } });
  running.push(gw);
  const started = Date.now();
  assert.ok(names(await gw.client.listTools()).includes('remote__echo'), 'cached tools listed while the login waits');
  assert.ok(Date.now() - started < 1000, 'the first list did not wait for the login');
  await waitFor(() => browserLaunches(env).length === launchedBefore + 1, { what: 'the browser launch' });
  const timedOut = await gw.client.callTool({ name: 'remote__echo', arguments: { text: 'x' } });
  assert.equal(timedOut.isError, true);
  assert.match(text(timedOut), /needs a login: open http:\/\/127\.0\.0\.1:\d+\/authorize\?\S+ in a browser and approve/);

  const call = gw.client.callTool({ name: 'remote__echo', arguments: { text: 'after login' } });
  await followRedirects(browserLaunches(env).at(-1)); // The user approves in the tab the gateway opened.
  assert.match(text(await call), /after login/);
  assert.equal(browserLaunches(env).length, launchedBefore + 1, 'one login for both calls');
});
