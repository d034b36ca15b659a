// `gateway doctor` starts and connects every server as `gateway list` does, headless, and
// reports each one: ready with its tools, or why not with the fix. Real CLI processes, real
// stdio fixture servers, the test authorization server for logins.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runCli, stdioServer, tempDir, writeConfig } from './helpers/gatewayProcess.js';
import { browserLaunches, oauthEnv, oauthHome, trackedFixtures } from './helpers/oauthGateway.js';
import { startIdentityProvider } from './fixtures/idp/identityProvider.js';

const fixture = trackedFixtures({ autoApprove: true });

test('doctor: a stdio server that crashes at start is a problem with its stderr reason; a healthy one is ready with its tool count', async () => {
  const path = writeConfig({
    mcpServers: {
      good: stdioServer('good'),
      dies: stdioServer('dies', { FIXTURE_MODE: 'exit-at-start' }),
      off: { ...stdioServer('off'), disabled: true },
    },
  });
  const run = await runCli(['doctor', '--config', path], { env: { MCP_GATEWAY_HOME: tempDir() } });
  assert.equal(run.status, 1, run.stdout + run.stderr);
  assert.match(run.stdout, /good \(stdio\)\n\s+✓ .*node\n\s+✓ ready: 9 tools\n/);
  assert.match(
    run.stdout,
    /dies \(stdio\)\n\s+✓ .*node\n\s+✗ does not start: process exited during start \(last stderr: fatal: fixture told to exit\)\n\s+fix: run it by hand to see all it prints: \S+node \S+stdio-server\.js with the variables of mcpServers\.dies\.env\n/,
  );
  assert.match(run.stdout, /off \(stdio\)\n\s+✓ disabled; not checked/);
  assert.match(run.stdout, /\n1 problem found\.\n$/);
  assert.match(run.stderr, /Starting and connecting 2 servers as gateway list does \(no browser is opened\)…\n/);
  assert.match(run.stderr, / {2}dies: failed \(\d+ ms\)\n/);
  assert.match(run.stderr, / {2}good: ready \(\d+ ms\)\n/);
});

test('doctor: a stdio server that does not finish connecting in time is a problem, with gateway.connectTimeout in its fix', async () => {
  const path = writeConfig({
    mcpServers: { hangs: stdioServer('hangs', { FIXTURE_MODE: 'hang-at-connect' }) },
    gateway: { connectTimeout: 1000 },
  });
  const run = await runCli(['doctor', '--config', path], { env: { MCP_GATEWAY_HOME: tempDir() } });
  assert.equal(run.status, 1, run.stdout + run.stderr);
  assert.match(
    run.stdout,
    /hangs \(stdio\)\n\s+✓ .*node\n\s+✗ does not start: did not finish connecting within 1000 ms\n\s+fix: run it by hand to see all it prints: .*; if it is only slow, raise gateway\.connectTimeout\n/,
  );
});

test('doctor without a config file says there is none, where it looked, and what to do (exit 2)', async () => {
  const dir = tempDir();
  const run = await runCli(['doctor'], { cwd: dir, env: { XDG_CONFIG_HOME: join(dir, 'xdg'), MCP_GATEWAY_HOME: join(dir, 'home') } });
  assert.equal(run.status, 2, run.stdout + run.stderr);
  assert.equal(
    run.stdout,
    `Config\n  ✗ no config file found; looked for ${join(dir, '.mcp.json')} and ${join(dir, 'xdg', 'mcp-oauth-gateway', 'config.json')}\n` +
      `      fix: create ${join(dir, '.mcp.json')} (the .mcp.json of Claude Desktop and Claude Code: {"mcpServers": {…}}; see mcp.example.json), or pass one with --config PATH\n`,
  );
});

test('doctor: a login revoked at the server is a problem with `gateway auth login` as the fix; a revoked access token that a refresh renews is not; no browser opens', async () => {
  const f = await fixture();
  const env = oauthHome();
  const path = writeConfig({ mcpServers: { remote: { url: f.mcpUrl } } }, tempDir('gw-cfg-'));
  const cli = (args) => runCli(args, { env: oauthEnv(env) });
  assert.equal((await cli(['auth', 'login', 'remote', '--config', path])).status, 0);

  f.revokeAll();
  const renewed = await cli(['doctor', '--config', path]);
  assert.equal(renewed.status, 0, renewed.stdout + renewed.stderr);
  assert.match(renewed.stdout, /✓ logged in; the access token expires in \d+ min; a refresh token renews it\n\s+✓ ready: \d+ tools\n/);
  assert.ok(
    f.records.tokenRequests.some((r) => r.grant_type === 'refresh_token' && r.status === 200),
    'renewed by a refresh',
  );

  f.revokeAll({ refresh: true });
  const revoked = await cli(['doctor', '--config', path]);
  assert.equal(revoked.status, 1, revoked.stdout + revoked.stderr);
  assert.match(
    revoked.stdout,
    /✗ the stored login was refused and could not be renewed \(revoked at the server, or expired without a refresh token\)\n\s+fix: gateway auth login remote\n/,
  );
  assert.doesNotMatch(revoked.stdout, /✓ logged in|✓ ready|headless/);
  assert.match(revoked.stdout, /\n1 problem found\.\n$/);
  assert.equal(browserLaunches(env).length, 1, 'only the auth login opened the browser');
});

test('doctor checks the identity provider: its discovery document, and no sign-in yet is a warning saying how to sign in; an issuer that does not answer is a problem with the fix', async () => {
  const idp = await startIdentityProvider();
  const config = { mcpServers: { good: stdioServer('good') }, gateway: { identityProvider: { issuer: idp.issuer, clientId: 'gateway' } } };
  const path = writeConfig(config);
  const escaped = idp.issuer.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  try {
    const run = await runCli(['doctor', '--config', path], { env: { MCP_GATEWAY_HOME: tempDir() } });
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.match(
      run.stdout,
      new RegExp(
        `Identity provider: ${escaped}\\n\\s+✓ discovery: ${escaped}/\\.well-known/openid-configuration\\n` +
          `\\s+! not signed in yet\\n\\s+fix: the gateway signs in when a server needs it; or run: gateway auth login --idp\\n`,
      ),
    );
  } finally {
    await idp.close();
  }
  const run = await runCli(['doctor', '--config', path], { env: { MCP_GATEWAY_HOME: tempDir() } });
  assert.equal(run.status, 1, run.stdout + run.stderr);
  assert.match(
    run.stdout,
    new RegExp(
      `✗ cannot read ${escaped}/\\.well-known/openid-configuration: connection refused\\n\\s+fix: check gateway\\.identityProvider\\.issuer`,
    ),
  );
});
