// The auth management commands, doctor, headless serving and the token store modes, run as
// real CLI processes against the test authorization server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, cpSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GATEWAY, killedAtEnd, stdioServer, tempDir, waitForState, writeConfig } from './helpers/gatewayProcess.js';
import { testNeeding } from './helpers/prerequisites.js';
import {
  oauthHome,
  oauthEnv,
  browserLaunches,
  serverDirs,
  expireStoredTokens,
  startOAuthGateway,
  waitForTools,
  echo,
  runCli,
  waitFor,
  toolNames,
  trackedFixtures,
} from './helpers/oauthGateway.js';

const fixture = trackedFixtures({ autoApprove: true });
const running = killedAtEnd();
const WITH_KEYRING = new URL('./helpers/withKeyring.sh', import.meta.url).pathname;

/** A config with the given servers in its own directory; returns its path. */
function config(servers, gateway) {
  return writeConfig({ mcpServers: servers, ...(gateway ? { gateway } : {}) }, tempDir('gw-cfg-'));
}
function cli(env, args, extraEnv = {}) {
  return runCli(args, { env: oauthEnv(env, extraEnv) });
}
/** Every token, code and verifier the authorization server handed out or received. */
function secretsOf(f) {
  return [...f.records.accessTokens, ...f.records.refreshTokens, ...f.records.codes, ...f.records.verifiers];
}

test('auth login runs a fresh browser login even with tokens stored and within the automatic-launch limit; status shows it without tokens', async () => {
  const f = await fixture();
  const env = oauthHome();
  const path = config({ remote: { url: f.mcpUrl }, local: stdioServer('local') });
  const first = await cli(env, ['auth', 'login', 'remote', '--config', path]);
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stdout, /Logged in to remote \(the access token expires in (59|60) min, with a refresh token\)/);
  assert.match(first.stderr, /Logging in to remote/);
  assert.equal(first.stderr.split('/authorize?').length - 1, 1, `the login URL once:\n${first.stderr}`);
  // An unfinished automatic launch a moment ago would block serve/list; auth login goes ahead.
  writeFileSync(join(serverDirs(env)[0], 'browser.json'), JSON.stringify({ launches: [Date.now()], completed: false }));
  const again = await cli(env, ['auth', 'login', 'remote', '--config', path]);
  assert.equal(again.status, 0, again.stderr);
  assert.equal(browserLaunches(env).length, 2);
  assert.equal(f.records.codes.length, 2);

  const status = await cli(env, ['auth', 'status', '--config', path]);
  assert.equal(status.status, 0);
  assert.match(
    status.stdout,
    /✓ remote {2}http:\/\/127\.0\.0\.1:\d+\/mcp\n {4}logged in: the access token expires in \d+ min; a refresh token renews it/,
  );
  assert.match(status.stdout, /client: registered by the gateway \(dynamic registration, client_id [\w-]+\)/);
  assert.match(status.stdout, new RegExp(`stored in: ${serverDirs(env)[0]}`));
  assert.ok(!/local/.test(status.stdout), 'stdio servers have no login');
  const json = JSON.parse((await cli(env, ['auth', 'status', '--json', '--config', path])).stdout);
  assert.deepEqual(
    {
      name: json.servers[0].name,
      authenticated: json.servers[0].authenticated,
      refreshToken: json.servers[0].refreshToken,
      source: json.servers[0].client.source,
      expired: json.servers[0].expired,
    },
    { name: 'remote', authenticated: true, refreshToken: true, source: 'dcr', expired: false },
  );
  for (const secret of secretsOf(f))
    assert.ok(!status.stdout.includes(secret) && !JSON.stringify(json).includes(secret), 'no token printed');

  const unknown = await cli(env, ['auth', 'login', 'nope', '--config', path]);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /no server "nope" in .*\(HTTP servers: remote\)/);
  const stdio = await cli(env, ['auth', 'login', 'local', '--config', path]);
  assert.match(stdio.stderr, /"local" is a stdio server; only HTTP servers log in/);
});

test('auth logout revokes at the authorization server (RFC 7009) and deletes the login; without a revocation endpoint it says it only deleted', async () => {
  const f = await fixture();
  const plain = await fixture({ revocation: false });
  const env = oauthHome();
  const path = config({ a: { url: f.mcpUrl }, b: { url: plain.mcpUrl } });
  for (const name of ['a', 'b']) assert.equal((await cli(env, ['auth', 'login', name, '--config', path])).status, 0);
  const refreshA = f.records.refreshTokens[0];

  const out = await cli(env, ['auth', 'logout', 'a', '--config', path]);
  assert.equal(out.status, 0, out.stderr);
  assert.equal(out.stdout, 'a: revoked the refresh token and the access token at the authorization server; deleted the local login\n');
  assert.deepEqual(f.records.revocations, [
    { token_type_hint: 'refresh_token', known: true },
    { token_type_hint: 'access_token', known: true },
  ]);
  // The revoked refresh token no longer works at the server.
  const reuse = await fetch(`${f.issuer}token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshA, client_id: f.records.registrations[0].client_id }),
  });
  assert.equal((await reuse.json()).error, 'invalid_grant');

  const all = await cli(env, ['auth', 'logout', '--all', '--config', path]);
  assert.match(all.stdout, /^b: nothing was revoked \(the authorization server offers no revocation endpoint\); deleted the local login$/m);
  assert.equal(serverDirs(env).length, 0);
  const none = await cli(env, ['auth', 'logout', 'a', '--config', path]);
  assert.equal(none.stdout, 'a: not logged in; nothing to do\n');
  const usage = await cli(env, ['auth', 'logout', '--config', path]);
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /name a server to log out of, or use --all/);
});

test('auth export / import: plain and passphrase-encrypted; a wrong passphrase or a tampered file changes nothing; --move forgets', async () => {
  const f = await fixture();
  const laptop = oauthHome();
  const server = oauthHome();
  const path = config({ remote: { url: f.mcpUrl } });
  assert.equal((await cli(laptop, ['auth', 'login', 'remote', '--config', path])).status, 0);
  const dir = tempDir('gw-export-');
  const plainFile = join(dir, 'plain.login');
  const sealedFile = join(dir, 'sealed.login');

  const plain = await cli(laptop, ['auth', 'export', 'remote', '--config', path, '--out', plainFile]);
  assert.equal(plain.status, 0, plain.stderr);
  assert.match(plain.stderr, /not encrypted: keep the file private/);
  assert.match(plain.stderr, /RFC 9700 §4\.14\.2/);
  assert.equal(readdirSync(dir).length, 1);
  assert.equal((await import('node:fs')).statSync(plainFile).mode & 0o777, 0o600);

  const sealed = await cli(laptop, ['auth', 'export', '--passphrase', '--move', '--out', sealedFile], {
    MCP_GATEWAY_PASSPHRASE: 'correct horse',
  });
  assert.equal(sealed.status, 0, sealed.stderr);
  assert.match(sealed.stderr, /encrypted: scrypt \+ AES-256-GCM/);
  assert.match(sealed.stderr, /Moved: this machine has forgotten that login/);
  assert.equal(serverDirs(laptop).length, 0, 'moved away');
  const text = readFileSync(sealedFile, 'utf8');
  for (const secret of secretsOf(f)) assert.ok(!text.includes(secret), 'nothing readable in the encrypted file');

  const wrong = await cli(server, ['auth', 'import', sealedFile], { MCP_GATEWAY_PASSPHRASE: 'wrong horse' });
  assert.equal(wrong.status, 2);
  assert.match(wrong.stderr, /wrong passphrase, or the file was altered; nothing was imported/);
  const tampered = JSON.parse(text);
  tampered.encrypted.data = Buffer.from(Buffer.from(tampered.encrypted.data, 'base64').map((b, i) => (i === 10 ? b ^ 1 : b))).toString(
    'base64',
  );
  writeFileSync(join(dir, 'tampered.login'), JSON.stringify(tampered));
  const bad = await cli(server, ['auth', 'import', join(dir, 'tampered.login')], { MCP_GATEWAY_PASSPHRASE: 'correct horse' });
  assert.equal(bad.status, 2);
  const plainTampered = readFileSync(plainFile, 'utf8').replace(/"access_token": "at_/, '"access_token": "xx_');
  writeFileSync(join(dir, 'plain-tampered.login'), plainTampered);
  const bad2 = await cli(server, ['auth', 'import', join(dir, 'plain-tampered.login')]);
  assert.equal(bad2.status, 2);
  assert.match(bad2.stderr, /altered or damaged/);
  const noPass = await cli(server, ['auth', 'import', sealedFile]);
  assert.match(noPass.stderr, /this export is encrypted: give its passphrase \(typed in at a terminal, or MCP_GATEWAY_PASSPHRASE\)/);
  // --passphrase: the file must be encrypted; a plain one in its place is refused.
  const plainAsSealed = await cli(server, ['auth', 'import', '--passphrase', plainFile], { MCP_GATEWAY_PASSPHRASE: 'correct horse' });
  assert.equal(plainAsSealed.status, 2, plainAsSealed.stderr);
  assert.match(
    plainAsSealed.stderr,
    /plain\.login: this export is not encrypted, and --passphrase says it should be; nothing was imported/,
  );
  assert.equal(serverDirs(server).length, 0, 'nothing was imported by the failures');

  const good = await cli(server, ['auth', 'import', '--passphrase', sealedFile], { MCP_GATEWAY_PASSPHRASE: 'correct horse' });
  assert.equal(good.status, 0, good.stderr);
  assert.match(good.stdout, /Imported 1 login/);
  // The imported login works on the other machine with no browser there.
  const list = await runCli(['list', '--config', path], { env: oauthEnv(server, { MCP_GATEWAY_BROWSER: '/bin/false' }) });
  assert.equal(list.status, 0, list.stderr);
  assert.equal(browserLaunches(server).length, 0);
});

test('serve --headless with a copied store: connects and refreshes with the copied tokens; a server that needs a login fails with what to do; nothing hangs', async () => {
  const f = await fixture();
  const other = await fixture();
  const laptop = oauthHome();
  const path = config({ remote: { url: f.mcpUrl } });
  assert.equal((await cli(laptop, ['auth', 'login', 'remote', '--config', path])).status, 0);
  const headless = oauthHome();
  cpSync(laptop.home, headless.home, { recursive: true });
  expireStoredTokens(headless); // the copied access token has expired: the headless host must refresh it
  const copied = JSON.parse((await cli(headless, ['auth', 'status', '--json', '--config', path])).stdout).servers[0];
  assert.deepEqual([copied.authenticated, copied.expired, copied.refreshToken], [true, true, true]);
  const gw = await startOAuthGateway(
    headless,
    { remote: { url: f.mcpUrl }, fresh: { url: other.mcpUrl }, local: stdioServer('local') },
    { args: ['--headless'], waitForPrefix: 'remote', extraEnv: { MCP_GATEWAY_BROWSER: '/bin/false' } },
  );
  running.push(gw);
  assert.equal(await echo(gw, 'remote'), 'oauth:hi');
  await waitForTools(gw, 'local');
  assert.equal(await echo(gw, 'local'), 'local:hi');
  assert.deepEqual(
    f.records.tokenRequests.map((r) => [r.grant_type, r.status]),
    [
      ['authorization_code', 200],
      ['refresh_token', 200],
    ],
  );
  assert.equal((await waitForState(gw, 'fresh', 'needs-auth')).login_url, undefined, 'no login under way');
  await waitFor(
    () =>
      /\[fresh\] (?:warn: )?needs a login: fresh needs a login and this gateway runs headless .*gateway auth login fresh.*gateway auth import/.test(
        gw.stderr(),
      ),
    { what: 'the headless message' },
  );
  assert.equal(other.records.authorizeRequests.length, 0, 'no login was started');
  assert.ok(!(await toolNames(gw.client)).some((name) => name.startsWith('fresh__')));
  await gw.close();
});

test('doctor: every finding with its fix; exit 1 on problems, 0 when all is well, 2 for a bad config', async () => {
  const good = await fixture();
  const noPkce = await fixture({ pkceMethods: null });
  const noDcr = await fixture({ dcr: false });
  const closedPort = await freePort();
  const env = oauthHome();
  const path = config({
    ok: { url: good.mcpUrl },
    local: stdioServer('local'),
    missing: { command: 'no-such-command-here' },
    down: { url: `http://127.0.0.1:${closedPort}/mcp` },
    nopkce: { url: noPkce.mcpUrl },
    nodcr: { url: noDcr.mcpUrl },
  });
  assert.equal((await cli(env, ['auth', 'login', 'ok', '--config', path])).status, 0);
  chmodSync(join(serverDirs(env)[0], 'tokens.json'), 0o644);
  const result = await cli(env, ['doctor', '--config', path]);
  assert.equal(result.status, 1, result.stdout + result.stderr);
  const out = result.stdout;
  assert.match(out, /✗ .*tokens\.json is mode 0644: other users can read it\n\s+fix: chmod 600 '.*tokens\.json'/);
  assert.match(
    out,
    /ok \(http.*\n\s+✓ reachable; asks for an OAuth login \(HTTP 401\)\n\s+✓ authorization server .*PKCE S256, token revocation\n\s+✓ client: registered automatically.*\n\s+✓ logged in; the access token expires in/,
  );
  assert.match(out, /local \(stdio\)\n\s+✓ .*node/);
  assert.match(
    out,
    /✗ command not found or not executable: no-such-command-here\n\s+fix: install it, or correct mcpServers\.missing\.command/,
  );
  assert.match(out, /✗ cannot reach http:\/\/127\.0\.0\.1:\d+\/mcp: connection refused\n\s+fix: check mcpServers\.down\.url/);
  assert.match(out, /✗ a login cannot work: .*does not offer PKCE with S256/);
  assert.match(
    out,
    /✗ the authorization server offers no dynamic client registration and no oauth\.clientId is configured\n\s+fix: register an OAuth app/,
  );
  assert.match(out, /! not logged in yet\n\s+fix: gateway auth login nodcr/);
  assert.match(out, /5 problems found\./);

  chmodSync(join(serverDirs(env)[0], 'tokens.json'), 0o600);
  const fine = await cli(env, ['doctor', '--config', config({ ok: { url: good.mcpUrl }, local: stdioServer('local') })]);
  assert.equal(fine.status, 0, fine.stdout);
  assert.match(fine.stdout, /No problems found\./);
  const broken = tempDir();
  writeFileSync(join(broken, '.mcp.json'), '{"mcpServers": {');
  const bad = await cli(env, ['doctor', '--config', join(broken, '.mcp.json')]);
  assert.equal(bad.status, 2);
  assert.match(bad.stdout, /✗ .*\.mcp\.json:1:17: invalid JSON/);
});

test('encrypted store: files hold no readable secret; the same key reopens them; a wrong key is refused and overwrites nothing', async () => {
  const f = await fixture();
  const env = oauthHome();
  const path = config({ remote: { url: f.mcpUrl } }, { tokenStore: 'encrypted' });
  const key = { MCP_GATEWAY_KEY: 'a long passphrase for the store' };
  const login = await cli(env, ['auth', 'login', 'remote', '--config', path], key);
  assert.equal(login.status, 0, login.stderr);
  const dir = serverDirs(env)[0];
  for (const file of ['tokens.json', 'client.json']) {
    const text = readFileSync(join(dir, file), 'utf8');
    assert.match(text, /"encrypted"/);
    for (const secret of secretsOf(f)) assert.ok(!text.includes(secret));
    assert.ok(!text.includes(f.records.registrations[0].client_id));
  }
  const before = readFileSync(join(dir, 'tokens.json'), 'utf8');
  const list = await runCli(['list', '--config', path], { env: oauthEnv(env, key) });
  assert.equal(list.status, 0, list.stderr);
  assert.equal(browserLaunches(env).length, 1);
  const wrong = await runCli(['list', '--config', path], { env: oauthEnv(env, { MCP_GATEWAY_KEY: 'another key' }) });
  assert.equal(wrong.status, 1);
  assert.match(
    wrong.stdout,
    /encrypted with another key than MCP_GATEWAY_KEY; set MCP_GATEWAY_KEY to the key it was made with \(nothing was changed\)/,
  );
  assert.equal(readFileSync(join(dir, 'tokens.json'), 'utf8'), before);
  assert.equal(browserLaunches(env).length, 1);
});

test('memory store: logins work for the process and nothing is written to disk', async () => {
  const f = await fixture();
  const env = oauthHome();
  const gw = await startOAuthGateway(env, { remote: { url: f.mcpUrl } }, { args: ['--token-store', 'memory'], waitForPrefix: 'remote' });
  running.push(gw);
  assert.equal(await echo(gw, 'remote'), 'oauth:hi');
  assert.equal(serverDirs(env).length, 0);
  assert.ok(!existsSync(join(env.home, 'servers')));
  await gw.close();
});

test('keychain store without a usable keychain: a clear message for the HTTP servers, the others serve', async () => {
  const f = await fixture();
  const env = oauthHome();
  const gw = await startOAuthGateway(
    env,
    { remote: { url: f.mcpUrl }, local: stdioServer('local') },
    {
      args: ['--token-store', 'keychain'],
      extraEnv: { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/bus' },
      waitForPrefix: 'local',
    },
  );
  running.push(gw);
  assert.match((await waitForState(gw, 'remote', 'failed')).what_to_do, /OS keychain.*Secret Service.*"tokenStore": "file"/);
  assert.equal(await echo(gw, 'local'), 'local:hi');
  await gw.close();
});

async function freePort() {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

testNeeding(
  'keyring',
  'keychain store against a real Secret Service (GNOME Keyring on D-Bus): logins live in the keychain, not in files',
  async () => {
    const f = await fixture();
    const env = oauthHome();
    const keyringHome = tempDir('gw-keyring-');
    const path = config({ remote: { url: f.mcpUrl } }, { tokenStore: 'keychain' });
    const inKeyring = (args, extra = {}) =>
      runCli([process.execPath, GATEWAY, ...args], { command: WITH_KEYRING, env: oauthEnv(env, { HOME: keyringHome, ...extra }) });

    const login = await inKeyring(['auth', 'login', 'remote', '--config', path]);
    assert.equal(login.status, 0, login.stderr);
    assert.match(login.stdout, /Stored in OS keychain \(service mcp-oauth-gateway/);
    const dir = serverDirs(env)[0];
    assert.deepEqual(
      readdirSync(dir)
        .filter((name) => name.endsWith('.json'))
        .sort(),
      ['browser.json', 'server.json'],
      'no token file',
    );
    // Another process (another D-Bus session on the same keyring) finds the login and, its access
    // token expired at the server, refreshes it.
    f.expireAccessTokens();
    const list = await inKeyring(['list', '--config', path]);
    assert.equal(list.status, 0, list.stderr + list.stdout);
    assert.deepEqual(
      f.records.tokenRequests.filter((r) => r.grant_type === 'refresh_token').map((r) => r.status),
      [200],
    );
    const status = await inKeyring(['auth', 'status', '--json', '--config', path]);
    assert.equal(JSON.parse(status.stdout).servers[0].authenticated, true);
    const logout = await inKeyring(['auth', 'logout', 'remote', '--config', path]);
    assert.match(logout.stdout, /revoked the refresh token and the access token/);
    const after = await inKeyring(['auth', 'status', '--json', '--config', path]);
    assert.equal(JSON.parse(after.stdout).servers[0].authenticated, false);
    assert.equal(browserLaunches(env).length, 1);

    // The encrypted store keeps its key in the same keychain when MCP_GATEWAY_KEY is not set.
    const encrypted = await inKeyring(['auth', 'login', 'remote', '--config', path, '--token-store', 'encrypted']);
    assert.equal(encrypted.status, 0, encrypted.stderr);
    assert.match(readFileSync(join(dir, 'tokens.json'), 'utf8'), /"encrypted"/);
    const reopened = await inKeyring(['auth', 'status', '--json', '--config', path, '--token-store', 'encrypted']);
    assert.equal(JSON.parse(reopened.stdout).servers[0].authenticated, true);
  },
);

test('encrypted store with neither MCP_GATEWAY_KEY nor a keychain: a clear message, nothing written', async () => {
  const f = await fixture();
  const env = oauthHome();
  const path = config({ remote: { url: f.mcpUrl } }, { tokenStore: 'encrypted' });
  const result = await cli(env, ['auth', 'login', 'remote', '--config', path], { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/bus' });
  assert.equal(result.status, 1);
  assert.match(result.stderr, /the encrypted token store needs a key: set MCP_GATEWAY_KEY, or make the keychain usable/);
  assert.equal(browserLaunches(env).length, 0);
});
