// What the gateway's logs say about OAuth: every flow's lines carry its correlation id, and
// no token, code, verifier, client secret or passphrase ever appears in a log line, an error
// message or a command's output, even at debug level and with an authorization server that
// echoes secrets back in its error pages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/gatewayProcess.js';
import { oauthHome, oauthEnv, startOAuthGateway, echo, runCli, trackedFixtures } from './helpers/oauthGateway.js';

const fixture = trackedFixtures();

test('login, refresh, a hostile error page, export and logout at debug level: no secret anywhere; each flow has its correlation id', async () => {
  const secret = 'client-secret-0123456789abcdef';
  const passphrase = 'export passphrase 42';
  const f = await fixture({
    autoApprove: true,
    rotateRefreshTokens: true,
    dcr: false,
    clients: [{ client_id: 'static-client', client_secret: secret, redirect_uris: ['http://127.0.0.1/callback'] }],
  });
  const env = oauthHome();
  const dir = tempDir('gw-logs-');
  const logFile = join(dir, 'gateway.log');
  const servers = { remote: { url: f.mcpUrl, oauth: { clientId: 'static-client', clientSecret: '${SECRET}' } } };
  const extraEnv = { SECRET: secret, MCP_GATEWAY_PASSPHRASE: passphrase };
  const gw = await startOAuthGateway(env, servers, {
    extraEnv,
    args: ['--log-level', 'debug', '--log-file', logFile],
    waitForPrefix: 'remote',
  });

  f.expireAccessTokens();
  assert.equal(await echo(gw, 'remote', 'one'), 'oauth:one'); // a refresh
  // A refresh answered by an error page that echoes the request, secrets included.
  f.knobs.tokenFault = { kind: 'echo', grant: 'refresh_token' };
  f.expireAccessTokens();
  const failed = await gw.client
    .callTool({ name: 'remote__echo', arguments: { text: 'two' } })
    .catch((error) => ({ thrown: error.message }));
  const failure = JSON.stringify(failed);
  assert.match(failure, /token refresh failed 4 times/);
  assert.match(gw.stderr(), /could not handle/, 'the echoed page is logged (redacted)');
  f.knobs.tokenFault = undefined;
  await gw.close();

  const exported = await runCli(['auth', 'export', '--out', join(dir, 'x.login'), '--passphrase', '--config', gw.configPath], {
    env: oauthEnv(env, extraEnv),
  });
  assert.equal(exported.status, 0, exported.stderr);
  const logout = await runCli(['auth', 'logout', 'remote', '--config', gw.configPath], { env: oauthEnv(env, extraEnv) });
  assert.match(logout.stdout, /revoked the refresh token/);

  const everything = [
    gw.stderr(),
    readFileSync(logFile, 'utf8'),
    failure,
    exported.stdout,
    exported.stderr,
    logout.stdout,
    logout.stderr,
  ].join('\n');
  const secrets = [...f.records.accessTokens, ...f.records.refreshTokens, ...f.records.codes, ...f.records.verifiers, secret, passphrase];
  assert.ok(secrets.length >= 8);
  for (const value of secrets) assert.ok(!everything.includes(value), `leaked: ${value.slice(0, 6)}…`);
  assert.match(everything, /\[redacted\]/, 'the echoed secrets were there to redact');

  // Correlation ids: the login's lines share one id, each refresh has its own, failures name theirs.
  const log = gw.stderr();
  const loginId = log.match(/\[remote login ([0-9a-f]{6})\] opened the browser/)?.[1];
  assert.ok(loginId, log);
  assert.match(log, new RegExp(`\\[remote login ${loginId}\\] logged in to remote`));
  const refreshIds = [...log.matchAll(/\[remote refresh ([0-9a-f]{6})\] refreshed the access token/g)].map((m) => m[1]);
  assert.ok(refreshIds.length >= 1);
  const failedId = log.match(/\[remote refresh ([0-9a-f]{6})\] warn: token refresh failed/)?.[1];
  assert.ok(failedId && !refreshIds.includes(failedId));
  assert.match(log, new RegExp(`\\[remote\\] warn: failed: token refresh failed 4 times.*\\[refresh ${failedId}\\]`));
  assert.match(readFileSync(logFile, 'utf8'), new RegExp(`\\[remote login ${loginId}\\]`), 'the log file has them too');
});
