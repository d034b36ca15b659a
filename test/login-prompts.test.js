// Logins that reach the user wherever they are: URL-mode elicitation in the MCP client, the
// status tool (aggregate mode) and list_servers (meta mode) showing who needs a login.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ElicitationCompleteNotificationSchema, ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GATEWAY, killedAtEnd, startGateway, tempDir } from './helpers/gatewayProcess.js';
import {
  oauthHome,
  oauthEnv,
  browserLaunches,
  waitForTools,
  waitFor,
  echo,
  runCli,
  trackedFixtures,
  followRedirects,
} from './helpers/oauthGateway.js';

const fixture = trackedFixtures({ autoApprove: true });
const running = killedAtEnd();

test('a client with URL-mode elicitation is asked to open the login page (no browser here), and told when the login is done', async () => {
  const f = await fixture();
  const env = oauthHome();
  const gw = await startGateway(
    { mcpServers: { notion: { url: f.mcpUrl } } },
    {
      env: oauthEnv(env),
      connect: false,
      clientOptions: { capabilities: { elicitation: { url: {} } } },
    },
  );
  running.push(gw);
  const asked = [];
  gw.client.setRequestHandler(ElicitRequestSchema, async (request) => {
    asked.push(request.params);
    void followRedirects(request.params.url); // the user opens it and approves
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
  const gw = await startGateway(
    { mcpServers: { notion: { url: f.mcpUrl } } },
    {
      env: oauthEnv(env, { FAKE_BROWSER_MODE: 'ignore' }),
      connect: false,
      clientOptions: { capabilities: { elicitation: {} } },
    },
  );
  running.push(gw);
  let asked = 0;
  gw.client.setRequestHandler(ElicitRequestSchema, async () => {
    asked++;
    return { action: 'decline' };
  });
  await gw.client.connect(gw.transport);
  await waitFor(() => browserLaunches(env).length === 1, { what: 'the browser launch' });
  const status = await waitFor(
    async () => {
      const servers = (await gw.client.callTool({ name: 'gateway__status', arguments: {} })).structuredContent.servers;
      return servers[0].login_url ? servers[0] : undefined;
    },
    { what: 'the login URL in the status' },
  );
  assert.equal(status.state, 'needs-auth');
  assert.equal(status.login_url, browserLaunches(env)[0]);
  assert.match(status.what_to_do, /ask the user to open login_url/);
  assert.equal(asked, 0);
  await followRedirects(status.login_url);
  await waitForTools(gw, 'notion');
  const after = (await gw.client.callTool({ name: 'gateway__status', arguments: {} })).structuredContent.servers[0];
  assert.deepEqual([after.state, after.tool_count, after.login_url], ['ready', 9, undefined]);
});

test('meta mode: list_servers carries the pending login URL too', async () => {
  const f = await fixture();
  const env = oauthHome();
  // The first list waits for a login under way only as long as gateway.startupTimeout (20 s by default).
  const gw = await startGateway(
    { gateway: { mode: 'meta', startupTimeout: 1000 }, mcpServers: { notion: { url: f.mcpUrl } } },
    { env: oauthEnv(env, { FAKE_BROWSER_MODE: 'ignore' }) },
  );
  running.push(gw);
  const entry = await waitFor(
    async () => {
      const result = await gw.client.callTool({ name: 'list_servers', arguments: {} });
      const server = result.structuredContent.servers[0];
      return server.login_url ? server : undefined;
    },
    { what: 'the login URL' },
  );
  assert.equal(entry.state, 'needs-auth');
  await waitFor(() => browserLaunches(env).length === 1, { what: 'the browser launch' });
  assert.equal(entry.login_url, browserLaunches(env)[0]);
});

/** A CLI process whose stdin the test writes to and whose output it watches as it comes. */
function spawnCli(args, env) {
  const child = spawn(process.execPath, [GATEWAY, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => child.on('close', (code) => resolve(code)));
  running.push({ child });
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Where the authorization server sends the browser after approval (not followed: nothing listens there for the test). */
async function approvedRedirect(authorizationUrl) {
  const response = await fetch(authorizationUrl, { redirect: 'manual' });
  return response.headers.get('location');
}

function configFor(f, dir = tempDir()) {
  const path = join(dir, '.mcp.json');
  writeFileSync(path, JSON.stringify({ mcpServers: { remote: { url: f.mcpUrl } } }));
  return path;
}

test('auth login --paste: the URL opens anywhere; a wrong state and a reused code are refused with why and can be retried; the right address logs in', async () => {
  const f = await fixture();
  const env = oauthHome();
  const config = configFor(f);
  const urlIn = (cli) => cli.stderr().match(/approve:\n\n {2}(\S+)\n/)?.[1];

  const first = spawnCli(['auth', 'login', 'remote', '--paste', '--config', config], oauthEnv(env));
  const url1 = await waitFor(() => urlIn(first), { what: 'the printed URL' });
  assert.match(first.stderr(), /may not load there; that is expected/);
  const landed1 = await approvedRedirect(url1);
  assert.match(landed1, /^http:\/\/127\.0\.0\.1:\d+\/callback\?code=/);
  const forged = new URL(landed1);
  forged.searchParams.set('state', 'from-another-login');
  first.child.stdin.write(`${forged.href}\n`);
  await waitFor(() => /Refused: The state parameter does not match the login in progress/.test(first.stderr()), { what: 'the refusal' });
  first.child.stdin.write('not an address at all\n');
  await waitFor(() => /That is not an address/.test(first.stderr()), { what: 'the second refusal' });
  first.child.stdin.write(`${landed1}\n`);
  assert.equal(await first.exited, 0, first.stderr());
  assert.match(first.stdout(), /Logged in to remote/);
  assert.equal(browserLaunches(env).length, 0);

  const second = spawnCli(['auth', 'login', 'remote', '--paste', '--config', config], oauthEnv(env));
  const url2 = await waitFor(() => urlIn(second), { what: 'the second URL' });
  const landed2 = new URL(await approvedRedirect(url2));
  const reused = new URL(landed2);
  reused.searchParams.set('code', new URL(landed1).searchParams.get('code'));
  second.child.stdin.write(`${reused.href}\n`);
  await waitFor(() => /The authorization server refused that code .*used already or has expired/.test(second.stderr()), {
    what: 'the reused code',
  });
  second.child.stdin.write(`${landed2.href}\n`);
  assert.equal(await second.exited, 0, second.stderr());
  // (The SDK's auth() sends a refused code a second time before giving up: two 400s.)
  assert.deepEqual(
    f.records.tokenRequests.filter((r) => r.grant_type === 'authorization_code').map((r) => r.status),
    [200, 400, 400, 200],
  );
});

test('auth login --device: shows the code, polls while pending, stores the tokens once approved', async () => {
  const f = await fixture();
  const env = oauthHome();
  const cli = spawnCli(['auth', 'login', 'remote', '--device', '--config', configFor(f)], oauthEnv(env));
  const userCode = await waitFor(() => cli.stderr().match(/enter the code (\S+)/)?.[1], { what: 'the user code' });
  assert.match(cli.stderr(), new RegExp(`open ${f.asOrigin}/device on any device`));
  await waitFor(() => f.records.devicePolls.length >= 2, { what: 'two polls' });
  f.approveDevice(userCode);
  assert.equal(await cli.exited, 0, cli.stderr());
  assert.deepEqual([...new Set(f.records.devicePolls.map((p) => p.answer))], ['authorization_pending', 'tokens']);
  const status = await runCli(['auth', 'status', '--json', '--config', configFor(f)], { env: oauthEnv(env) });
  assert.equal(JSON.parse(status.stdout).servers[0].authenticated, true);
  assert.equal(browserLaunches(env).length, 0);
  assert.ok(!cli.stderr().includes(f.records.deviceAuthorizations[0].device_code), 'the device code is a secret');
});

// slow_down (+5 s to the interval) is timed in oauth-steps.test.js, on a mock clock.
test('auth login --device reports denial and expiry clearly', async () => {
  const denied = await fixture();
  const deny = spawnCli(['auth', 'login', 'remote', '--device', '--config', configFor(denied)], oauthEnv(oauthHome()));
  denied.denyDevice(await waitFor(() => deny.stderr().match(/enter the code (\S+)/)?.[1], { what: 'the code' }));
  assert.equal(await deny.exited, 1);
  assert.match(deny.stderr(), /login to remote failed: the login was denied at the verification page/);

  const expiring = await fixture({ deviceExpiresIn: 2 });
  const expire = spawnCli(['auth', 'login', 'remote', '--device', '--config', configFor(expiring)], oauthEnv(oauthHome()));
  assert.equal(await expire.exited, 1);
  assert.match(expire.stderr(), /the code expired before it was approved; run the command again/);

  const none = await fixture({ device: false });
  const unsupported = await runCli(['auth', 'login', 'remote', '--device', '--config', configFor(none)], { env: oauthEnv(oauthHome()) });
  assert.equal(unsupported.status, 1);
  assert.match(unsupported.stderr, /does not offer the device flow .*use `gateway auth login remote --paste` instead/);
});

test('auth login --device with a confidential client authenticates as the server lists (Basic here) in both requests', async () => {
  const f = await fixture({
    dcr: false,
    authMethods: ['client_secret_basic'],
    clients: [{ client_id: 'tv', client_secret: 'tv-secret-123', redirect_uris: ['http://127.0.0.1/callback'] }],
  });
  const env = oauthHome();
  const dir = tempDir();
  const path = join(dir, '.mcp.json');
  writeFileSync(
    path,
    JSON.stringify({ mcpServers: { remote: { url: f.mcpUrl, oauth: { clientId: 'tv', clientSecret: 'tv-secret-123' } } } }),
  );
  const cli = spawnCli(['auth', 'login', 'remote', '--device', '--config', path], oauthEnv(env));
  f.approveDevice(await waitFor(() => cli.stderr().match(/enter the code (\S+)/)?.[1], { what: 'the code' }));
  assert.equal(await cli.exited, 0, cli.stderr());
  const polls = f.records.tokenRequests.filter((r) => r.grant_type === 'urn:ietf:params:oauth:grant-type:device_code');
  assert.ok(polls.length >= 1 && polls.every((r) => r.auth_method === 'client_secret_basic'));
});
