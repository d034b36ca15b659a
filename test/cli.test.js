// `gateway list` as a user reads it, and the log file / redaction every command shares.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { redact, registerSecret } from '../dist/log/redact.js';
import { createBundle } from '../dist/oauth/loginBundle.js';
import { runCli, stdioServer, tempDir, writeConfig, startGateway, waitFor, toolNames } from './helpers/gatewayProcess.js';

test('gateway list shows each server, its state or why it failed, and its tools; exit 1 when one is not ready', async () => {
  const config = writeConfig({
    mcpServers: {
      good: stdioServer('good'),
      broken: { command: 'no-such-command-xyz' },
      dies: stdioServer('dies', { FIXTURE_MODE: 'exit-at-start' }),
      off: { ...stdioServer('off'), disabled: true },
    },
  });
  const run = await runCli(['list', '--config', config]);
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.stdout, /✓ good\s+stdio\s+ready \(9 tools\)/);
  assert.match(run.stdout, /tools: good__echo, good__add/);
  assert.match(
    run.stdout,
    /✗ broken\s+stdio\s+failed\n\s+no-such-command-xyz\n\s+command not found: no-such-command-xyz \(check "command" and PATH\)/,
  );
  assert.match(run.stdout, /✗ dies\s+stdio\s+failed\n.*\n\s+process exited during start \(last stderr: fatal: fixture told to exit\)/);
  assert.match(run.stdout, /- off\s+stdio\s+disabled/);
  assert.match(run.stdout, /1 of 3 servers ready\./);
  // Progress went to stderr while connecting.
  assert.match(run.stderr, /Connecting to 3 servers…/);
  assert.match(run.stderr, /good: ready \(\d+ ms\)/);

  const json = await runCli(['list', '--json', '--config', config]);
  const servers = Object.fromEntries(JSON.parse(json.stdout).servers.map((s) => [s.name, s]));
  assert.equal(servers.good.state, 'ready');
  assert.equal(servers.good.tools.find((t) => t.name === 'echo').exposedAs, 'good__echo');
  assert.equal(servers.broken.state, 'failed');
  assert.match(servers.broken.reason, /command not found/);
  assert.equal(servers.off.state, 'disabled');
});

test('gateway list exits 0 when every enabled server is ready', async () => {
  const run = await runCli(['list', '--config', writeConfig({ mcpServers: { a: stdioServer('a') } })]);
  assert.equal(run.status, 0, run.stderr);
});

test("a command that ends with one of the gateway's errors: its message, no stack; exit 1, or 2 for usage", async () => {
  const dir = tempDir();
  const home = join(dir, 'home');
  const file = join(dir, 'login.json');
  writeFileSync(
    file,
    await createBundle([{ url: 'https://mcp.example.com/mcp', tokens: { access_token: 'at', token_type: 'Bearer', obtained_at: 1 } }]),
  );
  const env = { MCP_GATEWAY_HOME: home, MCP_GATEWAY_KEY: 'a key for the store' };
  const imported = await runCli(['auth', 'import', file, '--token-store', 'encrypted'], { env });
  assert.equal(imported.status, 0, imported.stderr);
  writeFileSync(join(home, 'encryption.json'), 'damaged');
  const damaged = await runCli(['auth', 'import', file, '--token-store', 'encrypted'], { env });
  assert.equal(damaged.status, 1, 'a store that cannot be used is no internal error (70)');
  assert.equal(
    damaged.stderr,
    `gateway: ${join(home, 'encryption.json')} is damaged; restore it from a copy (the encrypted files cannot be read without it)\n`,
  );
  const usage = await runCli(['auth', 'logout'], { env });
  assert.equal(usage.status, 2);
  assert.equal(usage.stderr, 'gateway: name a server to log out of, or use --all\n');
});

test('--log-file gets every log line, timestamped, in a 0600 file; stdout stays protocol-only', async () => {
  const dir = tempDir();
  const logFile = join(dir, 'gateway.log');
  const gw = await startGateway(
    { mcpServers: { chatty: stdioServer('chatty', { FIXTURE_STDERR_LINES: '2' }) } },
    { args: ['--log-file', logFile, '--log-level', 'debug'] },
  );
  await waitFor(async () => (await toolNames(gw.client)).includes('chatty__echo'), { what: 'ready' });
  await gw.close();
  const log = readFileSync(logFile, 'utf8');
  assert.match(log, /^\d{4}-\d\d-\d\dT[\d:.]+Z \[chatty\] hello from stderr 0$/m);
  assert.match(log, /\[chatty\] ready: 9 tools via stdio/);
  assert.equal(statSync(logFile).mode & 0o777, 0o600);
});

test('redaction removes tokens, codes, verifiers and secrets from any text', () => {
  const cases = [
    ['Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig', 'Authorization: Bearer [redacted]'],
    ['GET /callback?code=abc123&state=xyz', 'GET /callback?code=[redacted]&state=xyz'],
    ['grant_type=refresh_token&refresh_token=r-456&client_id=c', 'grant_type=refresh_token&refresh_token=[redacted]&client_id=c'],
    [
      '{"access_token":"at-1","token_type":"Bearer","refresh_token":"rt-2"}',
      '{"access_token":"[redacted]","token_type":"Bearer","refresh_token":"[redacted]"}',
    ],
    ['code_verifier=v3r1f13r&client_secret=s3cr3t', 'code_verifier=[redacted]&client_secret=[redacted]'],
    ['{"clientSecret": "shh", "codeVerifier":"x"}', '{"clientSecret": "[redacted]", "codeVerifier":"[redacted]"}'],
  ];
  for (const [input, expected] of cases) assert.equal(redact(input), expected);
  registerSecret('very-secret-passphrase');
  assert.equal(redact('failed with very-secret-passphrase in it'), 'failed with [redacted] in it');
});
