// Logins that reach the user wherever they are: URL-mode elicitation in the MCP client, the
// status tool (aggregate mode) and list_servers (meta mode) showing who needs a login.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { ElicitationCompleteNotificationSchema, ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { startOAuthFixture } from './fixtures/oauth/authServer.js';
import { startGateway } from './helpers/gatewayProcess.js';
import { oauthHome, oauthEnv, browserLaunches, waitForTools, waitFor, echo } from './helpers/oauthGateway.js';

const fixtures = [];
const running = [];
after(async () => {
  for (const gw of running) if (gw.child.exitCode === null) gw.child.kill('SIGKILL');
  for (const f of fixtures) await f.close().catch(() => {});
});
async function fixture(knobs) {
  const f = await startOAuthFixture({ autoApprove: true, ...knobs });
  fixtures.push(f);
  return f;
}
async function follow(url) {
  let next = url;
  while (next) {
    const response = await fetch(next, { redirect: 'manual' });
    const location = response.headers.get('location');
    next = location ? new URL(location, next).href : undefined;
  }
}

test('a client with URL-mode elicitation is asked to open the login page (no browser here), and told when the login is done', async () => {
  const f = await fixture();
  const env = oauthHome();
  const gw = await startGateway({ mcpServers: { notion: { url: f.mcpUrl } } }, {
    env: oauthEnv(env),
    connect: false,
    clientOptions: { capabilities: { elicitation: { url: {} } } },
  });
  running.push(gw);
  const asked = [];
  gw.client.setRequestHandler(ElicitRequestSchema, async (request) => {
    asked.push(request.params);
    void follow(request.params.url); // the user opens it and approves
    return { action: 'accept' };
  });
  const completed = [];
  gw.client.setNotificationHandler(ElicitationCompleteNotificationSchema, (n) => void completed.push(n.params.elicitationId));
  await gw.client.connect(gw.transport);
  await waitForTools(gw, 'notion');
  assert.equal(asked.length, 1);
  assert.equal(asked[0].mode, 'url');
  assert.equal(asked[0].message, 'Log in to notion to use its tools');
  assert.equal(new URL(asked[0].url).origin, new URL(f.issuer).origin);
  await waitFor(() => completed.length === 1, { what: 'elicitation/complete' });
  assert.equal(completed[0], asked[0].elicitationId);
  assert.equal(browserLaunches(env).length, 0, 'no browser opened on the gateway host');
  assert.equal(await echo(gw, 'notion'), 'oauth:hi');
});

test('a client without URL-mode elicitation is never sent one; gateway__status shows who needs a login, with the URL', async () => {
  const f = await fixture();
  const env = oauthHome();
  const gw = await startGateway({ mcpServers: { notion: { url: f.mcpUrl } } }, {
    env: oauthEnv(env, { FAKE_BROWSER_MODE: 'ignore' }),
    connect: false,
    clientOptions: { capabilities: { elicitation: {} } },
  });
  running.push(gw);
  let asked = 0;
  gw.client.setRequestHandler(ElicitRequestSchema, async () => {
    asked++;
    return { action: 'decline' };
  });
  await gw.client.connect(gw.transport);
  await waitFor(() => browserLaunches(env).length === 1, { what: 'the browser launch' });
  const status = await waitFor(async () => {
    const servers = (await gw.client.callTool({ name: 'gateway__status', arguments: {} })).structuredContent.servers;
    return servers[0].login_url ? servers[0] : undefined;
  }, { what: 'the login URL in the status' });
  assert.equal(status.state, 'needs-auth');
  assert.equal(status.login_url, browserLaunches(env)[0]);
  assert.match(status.what_to_do, /ask the user to open login_url/);
  assert.equal(asked, 0);
  await follow(status.login_url);
  await waitForTools(gw, 'notion');
  const after = (await gw.client.callTool({ name: 'gateway__status', arguments: {} })).structuredContent.servers[0];
  assert.deepEqual([after.state, after.tool_count, after.login_url], ['ready', 9, undefined]);
});

test('meta mode: list_servers carries the pending login URL too', async () => {
  const f = await fixture();
  const env = oauthHome();
  const gw = await startGateway({ gateway: { mode: 'meta' }, mcpServers: { notion: { url: f.mcpUrl } } }, { env: oauthEnv(env, { FAKE_BROWSER_MODE: 'ignore' }) });
  running.push(gw);
  const entry = await waitFor(async () => {
    const result = await gw.client.callTool({ name: 'list_servers', arguments: {} });
    const server = result.structuredContent.servers[0];
    return server.login_url ? server : undefined;
  }, { what: 'the login URL' });
  assert.equal(entry.state, 'needs-auth');
  await waitFor(() => browserLaunches(env).length === 1, { what: 'the browser launch' });
  assert.equal(entry.login_url, browserLaunches(env)[0]);
});
