// End to end: `gateway auth login` (a real child process) against the test authorization server
// whose 401, protected-resource metadata or authorization-server metadata names URLs into
// private and link-local networks, or with credentials. The child runs with
// test/helpers/loopbackOnly.js preloaded: its resolver maps test names to 10.x / 169.254.x
// without DNS, and any connect off 127/8 and ::1 is refused at the socket layer and recorded,
// so nothing leaves this machine even with the gateway's protection switched off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, writeConfig } from './helpers/gatewayProcess.js';
import { browserLaunches, oauthEnv, oauthHome, runCli, trackedFixtures } from './helpers/oauthGateway.js';

const fixture = trackedFixtures({ autoApprove: true });
const GUARD = new URL('./helpers/loopbackOnly.js', import.meta.url).href;
const HOSTS = { 'metadata.internal.test': '10.0.0.1', 'auth.internal.test': '169.254.169.254', 'reg.internal.test': '192.168.1.10' };

async function login(f) {
  const env = oauthHome();
  const connectLog = join(tempDir('gw-connect-'), 'connects.log');
  const path = writeConfig({ mcpServers: { remote: { url: f.mcpUrl } } });
  const extra = { NODE_OPTIONS: `--import ${GUARD}`, GATEWAY_TEST_CONNECT_LOG: connectLog, GATEWAY_TEST_HOSTS: JSON.stringify(HOSTS) };
  const result = await runCli(['auth', 'login', 'remote', '--config', path], { env: oauthEnv(env, extra) });
  const attempts = existsSync(connectLog) ? readFileSync(connectLog, 'utf8').trim().split('\n').filter(Boolean) : [];
  return { ...result, attempts, launches: browserLaunches(env) };
}

const CASES = [
  [
    'the 401 names a resource_metadata on a name resolving to 10.0.0.1',
    { resourceMetadataUrl: 'https://metadata.internal.test/.well-known/oauth-protected-resource' },
    /metadata\.internal\.test: it resolves to 10\.0\.0\.1, a private address/,
  ],
  [
    'authorization_servers names the cloud metadata address',
    { authorizationServers: ['https://169.254.169.254/'] },
    /169\.254\.169\.254: it is 169\.254\.169\.254, a link-local address/,
  ],
  [
    'authorization_servers names a name resolving to 169.254.169.254',
    { authorizationServers: ['https://auth.internal.test/'] },
    /auth\.internal\.test: it resolves to 169\.254\.169\.254, a link-local address/,
  ],
  [
    'the registration endpoint resolves to 192.168.1.10',
    { asMetadataExtra: { registration_endpoint: 'https://reg.internal.test/register' } },
    /reg\.internal\.test: it resolves to 192\.168\.1\.10, a private address/,
  ],
  [
    'the authorization endpoint is 10.0.0.1 in hex (no browser is sent there)',
    { asMetadataExtra: { authorization_endpoint: 'https://0xa000001/authorize' } },
    /the authorization endpoint at 10\.0\.0\.1: it is 10\.0\.0\.1, a private address/,
  ],
  [
    'the token endpoint is fd00:ec2::254 (the AWS metadata service over IPv6)',
    { asMetadataExtra: { token_endpoint: 'https://[fd00:ec2::254]/token' } },
    /\[fd00:ec2::254\]: it is fd00:ec2::254, a unique-local address/,
  ],
];

for (const [what, knobs, reason] of CASES) {
  test(`a server on 127.0.0.1 whose ${what}: the login is refused, nothing is connected to`, async () => {
    const f = await fixture(knobs);
    const out = await login(f);
    assert.notEqual(out.status, 0, out.stderr);
    assert.match(out.stderr, reason);
    assert.match(out.stderr, /server-side request forgery/);
    assert.deepEqual(out.attempts, [], `connections attempted off loopback:\n${out.stderr}`);
  });
}

test('a learned URL with credentials is refused before any request or browser', async () => {
  const f = await fixture({ asMetadataExtra: { token_endpoint: 'http://user:pw-0123@127.0.0.1:9/token' } });
  const out = await login(f);
  assert.notEqual(out.status, 0);
  assert.match(
    out.stderr,
    /token_endpoint carries credentials \(http:\/\/…@127\.0\.0\.1:9\); a URL with a user name or password is never accepted from a server/,
  );
  assert.ok(!out.stderr.includes('pw-0123'));
  assert.deepEqual(out.launches, []);
});

test('a server on 127.0.0.1 with its authorization server on 127.0.0.1 logs in (the configured class is allowed)', async () => {
  const f = await fixture();
  const out = await login(f);
  assert.equal(out.status, 0, out.stderr);
  assert.match(out.stdout, /Logged in to remote/);
  assert.deepEqual(out.attempts, []);
});
