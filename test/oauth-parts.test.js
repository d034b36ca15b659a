// The OAuth building blocks on their own: header parsing, URL and metadata rules, the
// loopback listener, the token store and the cross-process lock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { readdirSync, statSync, writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseWwwAuthenticate, bearerChallenge } from '../dist/oauth/wwwAuthenticate.js';
import { checkEndpointUrl } from '../dist/oauth/urlRules.js';
import { checkDiscovery } from '../dist/oauth/discoveryChecks.js';
import { startLoopbackListener } from '../dist/oauth/loopbackListener.js';
import { CallbackPortInUseError } from '../dist/shared/errors.js';
import { TokenStore } from '../dist/oauth/tokenStore.js';
import { withStoreLock } from '../dist/shared/storeLock.js';
import { serverKey, canonicalServerUrl } from '../dist/oauth/serverKey.js';
import { Logger } from '../dist/log/logger.js';
import { seal, unseal } from '../dist/oauth/storage/aesGcm.js';
import { tempDir } from './helpers/gatewayProcess.js';

test('WWW-Authenticate: quoted strings with commas, escaped quotes and scope= inside, several challenges', () => {
  const header =
    'Basic realm="x, scope=no", Bearer realm="say \\"hi\\", scope=evil", scope="files:read files:write", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", error="invalid_token"';
  const challenges = parseWwwAuthenticate(header);
  assert.deepEqual(
    challenges.map((c) => c.scheme),
    ['basic', 'bearer'],
  );
  assert.equal(challenges[0].params.realm, 'x, scope=no');
  assert.equal(challenges[1].params.realm, 'say "hi", scope=evil');
  assert.deepEqual(bearerChallenge(header), {
    scope: 'files:read files:write',
    resourceMetadata: 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp',
    error: 'invalid_token',
  });
  assert.deepEqual(bearerChallenge('Bearer error=insufficient_scope, scope=admin'), {
    scope: 'admin',
    error: 'insufficient_scope',
    resourceMetadata: undefined,
  });
  assert.deepEqual(parseWwwAuthenticate('Basic dXNlcjpwYXNz, Bearer'), [
    { scheme: 'basic', params: {}, token68: 'dXNlcjpwYXNz' },
    { scheme: 'bearer', params: {} },
  ]);
  assert.equal(bearerChallenge('Basic realm="x"'), undefined);
  assert.equal(bearerChallenge(null), undefined);
});

test('endpoint URLs: https, or http on loopback only; no other scheme', () => {
  assert.equal(checkEndpointUrl('https://auth.example.com/token', 'x').host, 'auth.example.com');
  for (const ok of ['http://127.0.0.1:8080/t', 'http://localhost/t', 'http://[::1]:9/t', 'http://127.5.6.7/t']) checkEndpointUrl(ok, 'x');
  assert.throws(
    () => checkEndpointUrl('http://auth.example.com/token', 'the token_endpoint'),
    /the token_endpoint uses plain http \(http:\/\/auth\.example\.com\); only https is accepted, except for loopback hosts/,
  );
  for (const bad of ['file:///etc/passwd', 'data:text/plain,hi', 'javascript:alert(1)']) {
    assert.throws(() => checkEndpointUrl(bad, 'x'), /which is never accepted/);
  }
  assert.throws(() => checkEndpointUrl('not a url', 'x'), /not a valid URL/);
});

test('discovered metadata: issuer must match, S256 must be offered, endpoints must be safe', () => {
  const good = {
    authorizationServerUrl: 'https://auth.example.com/',
    authorizationServerMetadata: {
      issuer: 'https://auth.example.com',
      authorization_endpoint: 'https://auth.example.com/authorize',
      token_endpoint: 'https://auth.example.com/token',
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
    },
  };
  checkDiscovery(good);
  const with_ = (patch) => ({ ...good, authorizationServerMetadata: { ...good.authorizationServerMetadata, ...patch } });
  assert.throws(
    () => checkDiscovery(with_({ issuer: 'https://evil.example.com' })),
    /names a different issuer \(https:\/\/evil\.example\.com\); RFC 8414 requires them to match/,
  );
  assert.throws(
    () => checkDiscovery(with_({ code_challenge_methods_supported: undefined })),
    /does not offer PKCE with S256 \(code_challenge_methods_supported: absent\)/,
  );
  assert.throws(
    () => checkDiscovery(with_({ code_challenge_methods_supported: ['plain'] })),
    /does not offer PKCE with S256 \(code_challenge_methods_supported: \["plain"\]\)/,
  );
  assert.throws(() => checkDiscovery(with_({ token_endpoint: 'http://auth.example.com/token' })), /token_endpoint uses plain http/);
  assert.throws(() => checkDiscovery(with_({ authorization_endpoint: 'javascript:alert(1)' })), /never accepted/);
});

test('issuer (RFC 8414 §3.3): identical to the one the resource metadata names; only an issuer the client derived may differ by a terminating slash', () => {
  const metadata = {
    authorization_endpoint: 'https://auth.example.com/authorize',
    token_endpoint: 'https://auth.example.com/token',
    response_types_supported: ['code'],
    code_challenge_methods_supported: ['S256'],
  };
  const named = (asUrl, issuer) => ({
    authorizationServerUrl: asUrl,
    resourceMetadata: { resource: 'https://mcp.example.com/mcp', authorization_servers: [asUrl] },
    authorizationServerMetadata: { ...metadata, issuer },
  });
  checkDiscovery(named('https://auth.example.com/', 'https://auth.example.com/'));
  checkDiscovery(named('https://auth.example.com/tenant', 'https://auth.example.com/tenant'));
  for (const [asUrl, issuer] of [
    ['https://auth.example.com/', 'https://auth.example.com'],
    ['https://auth.example.com', 'https://auth.example.com/'],
    ['https://auth.example.com/tenant', 'https://auth.example.com/tenant/'],
    ['https://auth.example.com/', 'https://AUTH.example.com/'],
    ['https://auth.example.com/', 'https://auth.example.com:443/'],
  ]) {
    assert.throws(() => checkDiscovery(named(asUrl, issuer)), /names a different issuer/, `${issuer} for ${asUrl}`);
  }
  // Derived by the client (a 2025-03-26 server's origin, a configured metadata URL): the
  // well-known URL is the same with or without the slash, so either spelling is the server's.
  const derived = (asUrl, issuer) => ({ authorizationServerUrl: asUrl, authorizationServerMetadata: { ...metadata, issuer } });
  checkDiscovery(derived('https://auth.example.com/', 'https://auth.example.com'));
  checkDiscovery(derived('https://auth.example.com/tenant', 'https://auth.example.com/tenant/'));
  assert.throws(() => checkDiscovery(derived('https://auth.example.com/', 'https://auth.example.com/tenant')), /names a different issuer/);
  assert.throws(() => checkDiscovery(derived('https://auth.example.com/', 'https://AUTH.example.com')), /names a different issuer/);
});

async function get(url) {
  const response = await fetch(url, { redirect: 'manual' });
  return { status: response.status, body: await response.text() };
}

test('loopback listener: 127.0.0.1 only; wrong state refused while it keeps waiting; one good callback; then closed', async () => {
  const listener = await startLoopbackListener(0);
  assert.match(listener.redirectUri, /^http:\/\/127\.0\.0\.1:\d+\/callback$/);
  // Not reachable on any other interface address of this machine.
  const others = Object.values(networkInterfaces())
    .flat()
    .filter((a) => a && a.family === 'IPv4' && !a.internal);
  for (const address of others) {
    await assert.rejects(fetch(`http://${address.address}:${listener.port}/callback`, { signal: AbortSignal.timeout(2000) }));
  }
  const code = listener.waitForCode({ serverName: 'notion', state: 'good-state' });
  const forged = await get(`${listener.redirectUri}?code=c1&state=bad-state`);
  assert.equal(forged.status, 400);
  assert.match(forged.body, /state parameter does not match/);
  assert.equal((await get(`http://127.0.0.1:${listener.port}/other`)).status, 404);
  // A malformed request line never takes the listener (or the gateway) down.
  const raw = await new Promise((resolve) => {
    const socket = connect(listener.port, '127.0.0.1', () => socket.write('GET http://[ HTTP/1.1\r\nHost: x\r\n\r\n'));
    let text = '';
    socket.on('data', (chunk) => (text += chunk));
    socket.on('close', () => resolve(text));
    socket.on('error', () => resolve(text));
  });
  assert.ok(raw === '' || /^HTTP\/1\.1 400/.test(raw), raw);
  // The browser's page waits for the code exchange, so it tells the truth.
  const goodPage = get(`${listener.redirectUri}?code=the-code&state=good-state`);
  const callback = await code;
  assert.equal(callback.code, 'the-code');
  let answered = false;
  void goodPage.then(() => (answered = true));
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(answered, false, 'no page before the exchange is done');
  await callback.finish({ ok: true });
  const good = await goodPage;
  assert.equal(good.status, 200);
  assert.match(good.body, /Logged in to notion/);
  assert.match(good.body, /You can close this tab/);
  await new Promise((resolve) => setTimeout(resolve, 100));
  await assert.rejects(fetch(`${listener.redirectUri}?code=again&state=good-state`), 'closed after one use');
});

test("loopback listener: the server's error is a clean failure, HTML-escaped", async () => {
  const listener = await startLoopbackListener(0);
  const code = listener.waitForCode({ serverName: 'notion', state: 's' });
  code.catch(() => {});
  const page = await get(
    `${listener.redirectUri}?state=s&error=access_denied&error_description=${encodeURIComponent('<script>alert(1)</script> said no')}`,
  );
  assert.match(page.body, /Login to notion failed/);
  assert.match(page.body, /&lt;script&gt;alert\(1\)&lt;\/script&gt; said no/);
  assert.doesNotMatch(page.body, /<script>/);
  await assert.rejects(code, /the authorization server refused the login: access_denied \(<script>alert\(1\)<\/script> said no\)/);
});

test('loopback listener: iss must equal the issuer when the server advertises RFC 9207', async () => {
  const listener = await startLoopbackListener(0);
  const code = listener.waitForCode({ serverName: 'x', state: 's', issuer: 'https://auth.example.com' });
  code.catch(() => {});
  const page = await get(`${listener.redirectUri}?state=s&code=c&iss=${encodeURIComponent('https://evil.example.com')}`);
  assert.equal(page.status, 400);
  await assert.rejects(
    code,
    /the callback's iss \(https:\/\/evil\.example\.com\) is not the authorization server's issuer https:\/\/auth\.example\.com \(RFC 9207\)/,
  );
  const listener2 = await startLoopbackListener(0);
  const code2 = listener2.waitForCode({ serverName: 'x', state: 's', issuer: 'https://auth.example.com' });
  code2.catch(() => {});
  await get(`${listener2.redirectUri}?state=s&code=c`);
  await assert.rejects(code2, /iss \(missing\)/);
  // Not advertised, but present: it must still be the issuer; and it is checked before an error is believed.
  const listener3 = await startLoopbackListener(0);
  const code3 = listener3.waitForCode({ serverName: 'x', state: 's', expectedIssuer: 'https://auth.example.com' });
  code3.catch(() => {});
  await get(`${listener3.redirectUri}?state=s&error=access_denied&iss=${encodeURIComponent('https://evil.example.com')}`);
  await assert.rejects(code3, /iss \(https:\/\/evil\.example\.com\)/);
  const listener4 = await startLoopbackListener(0);
  const code4 = listener4.waitForCode({ serverName: 'x', state: 's', expectedIssuer: 'https://auth.example.com' });
  const okPage = get(`${listener4.redirectUri}?state=s&code=c`);
  const callback = await code4;
  await callback.finish({ ok: false, error: 'token_exchange_failed', description: 'invalid_grant <b>' });
  const page4 = await okPage;
  assert.match(page4.body, /Login to x failed/);
  assert.match(page4.body, /invalid_grant &lt;b&gt;/);
});

test('loopback listener: times out and closes; a taken port is a clear error', async () => {
  const listener = await startLoopbackListener(0);
  await assert.rejects(listener.waitForCode({ serverName: 'x', state: 's', timeoutMs: 200 }), /no login completed within 0 s/);
  await assert.rejects(fetch(listener.redirectUri));
  const blocker = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => blocker.once('listening', resolve));
  const { port } = blocker.address();
  await assert.rejects(startLoopbackListener(port), (error) => {
    assert.ok(error instanceof CallbackPortInUseError);
    assert.equal(error.message, `the OAuth callback port 127.0.0.1:${port} is in use by another program`);
    return true;
  });
  blocker.close();
});

test('token store: one 0700 directory per canonical server URL, 0600 files, atomic writes', async () => {
  const root = tempDir('gw-store-');
  const store = new TokenStore(root);
  await store.writeTokens('https://mcp.example.com/a', { access_token: 'A', token_type: 'Bearer', obtained_at: 1 });
  await store.writeTokens('https://MCP.example.com:443/b#frag', { access_token: 'B', token_type: 'Bearer', obtained_at: 1 });
  assert.equal(canonicalServerUrl('https://MCP.example.com:443/b#frag'), 'https://mcp.example.com/b');
  assert.notEqual(serverKey('https://mcp.example.com/a'), serverKey('https://mcp.example.com/b'));
  assert.equal((await store.readTokens('https://mcp.example.com/a')).access_token, 'A');
  assert.equal((await store.readTokens('https://mcp.example.com/b')).access_token, 'B');
  for (const dir of [join(root, 'servers'), store.dirFor('https://mcp.example.com/a')]) assert.equal(statSync(dir).mode & 0o777, 0o700);
  const dir = store.dirFor('https://mcp.example.com/a');
  for (const file of readdirSync(dir)) assert.equal(statSync(join(dir, file)).mode & 0o777, 0o600, file);
  assert.deepEqual(readdirSync(dir).sort(), ['server.json', 'tokens.json']);
  assert.equal(JSON.parse(readFileSync(join(dir, 'server.json'), 'utf8')).url, 'https://mcp.example.com/a');
});

test('token store: a corrupt file is reported and treated as absent, never a crash', async () => {
  const root = tempDir('gw-store-');
  const lines = [];
  const store = new TokenStore(root, new Logger({ sink: (line) => lines.push(line) }));
  const url = 'https://mcp.example.com/mcp';
  await store.writeTokens(url, { access_token: 'A', token_type: 'Bearer', obtained_at: 1 });
  writeFileSync(join(store.dirFor(url), 'tokens.json'), '{"access_token": "A", trunc');
  assert.equal(await store.readTokens(url), undefined);
  writeFileSync(join(store.dirFor(url), 'client.json'), '[1,2]');
  assert.equal(await store.readClient(url), undefined);
  assert.match(lines.join(''), /tokens\.json: unreadable tokens file .*; ignoring it — the server will need a fresh login/);
  assert.match(lines.join(''), /client\.json: unreadable client file \(not a JSON object\)/);
});

test('store lock: exclusive across processes; a dead owner is taken over', async () => {
  const dir = tempDir('gw-lock-');
  const script = `
    import { withStoreLock } from ${JSON.stringify(new URL('../dist/shared/storeLock.js', import.meta.url).href)};
    import { appendFileSync } from 'node:fs';
    await withStoreLock(process.argv[1], async () => {
      appendFileSync(process.argv[2], 'enter ' + process.pid + '\\n');
      await new Promise((r) => setTimeout(r, 150));
      appendFileSync(process.argv[2], 'leave ' + process.pid + '\\n');
    });`;
  const journal = join(dir, 'journal');
  const runs = Array.from(
    { length: 4 },
    () =>
      new Promise((resolve) => {
        spawn(process.execPath, ['--input-type=module', '-e', script, dir, journal], { stdio: 'inherit' }).on('exit', resolve);
      }),
  );
  assert.deepEqual(await Promise.all(runs), [0, 0, 0, 0]);
  const events = readFileSync(journal, 'utf8').trim().split('\n');
  assert.equal(events.length, 8);
  for (let i = 0; i < 8; i += 2) {
    assert.equal(events[i].replace('enter', 'leave'), events[i + 1], 'no two holders at once');
  }
  // A lock left by a process that no longer exists.
  const lockDir = tempDir('gw-lock-');
  mkdirSync(lockDir, { recursive: true });
  writeFileSync(
    join(lockDir, 'lock'),
    JSON.stringify({ pid: 2 ** 22 - 3, host: (await import('node:os')).hostname(), acquired_at: Date.now() }),
  );
  const started = Date.now();
  assert.equal(await withStoreLock(lockDir, async () => 'got it', { timeoutMs: 2000 }), 'got it');
  assert.ok(Date.now() - started < 1000);
});

test('OAuth fetch: a timeout, a size cap, GET redirects followed (Authorization dropped across origins), bodies never re-sent on a redirect', async () => {
  const { createOAuthFetch } = await import('../dist/oauth/oauthFetch.js');
  const seen = [];
  const other = createServer((req, res) => {
    seen.push({ path: req.url, authorization: req.headers.authorization });
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  await new Promise((resolve) => other.listen(0, '127.0.0.1', resolve));
  const otherOrigin = `http://127.0.0.1:${other.address().port}`;
  const server = createServer((req, res) => {
    seen.push({ path: req.url, authorization: req.headers.authorization, method: req.method });
    if (req.url === '/slow') return setTimeout(() => res.end('late'), 1000);
    if (req.url === '/big') return res.end('x'.repeat(2048));
    if (req.url === '/same') return res.writeHead(302, { location: '/final' }).end();
    if (req.url === '/away') return res.writeHead(307, { location: `${otherOrigin}/landed` }).end();
    if (req.url === '/insecure') return res.writeHead(302, { location: 'http://example.com/x' }).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"final":true}');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  try {
    const fetchFn = createOAuthFetch(fetch, { timeoutMs: 200, maxBytes: 1024 });
    await assert.rejects(
      fetchFn(`${origin}/slow`),
      (error) => error.name === 'TransientAuthError' && /no answer within 0\.2 s/.test(error.message),
    );
    await assert.rejects(
      fetchFn(`${origin}/big`),
      (error) => error.name === 'UnsafeAuthorizationServerError' && /over 1024 bytes/.test(error.message),
    );
    assert.deepEqual(await (await fetchFn(`${origin}/same`)).json(), { final: true });
    const followed = await fetchFn(`${origin}/away`, { headers: { authorization: 'Basic c2VjcmV0' } });
    assert.equal(followed.status, 200);
    assert.equal(seen.find((s) => s.path === '/landed').authorization, undefined, 'Authorization not sent to another origin');
    seen.length = 0;
    const posted = await fetchFn(`${origin}/away`, {
      method: 'POST',
      body: 'refresh_token=rt_secret',
      headers: { authorization: 'Basic c2VjcmV0' },
    });
    assert.equal(posted.status, 307, 'a POST is not re-sent');
    assert.ok(!seen.some((s) => s.path === '/landed'));
    assert.equal((await fetchFn(`${origin}/same`, { redirect: 'manual' })).status, 302, 'manual is left to the caller');
    await assert.rejects(fetchFn(`${origin}/insecure`), /uses plain http/);
    await assert.rejects(fetchFn('file:///etc/passwd'), /never accepted/);
  } finally {
    server.close();
    other.close();
  }
});

test('AES-256-GCM envelopes: only a whole 16-byte tag opens one; a truncated tag, another key or other AAD is refused', () => {
  const key = randomBytes(32);
  const sealed = seal(key, 'the tokens', 'server-a/tokens');
  assert.equal(unseal(key, sealed, 'server-a/tokens'), 'the tokens');
  assert.equal(Buffer.from(sealed.tag, 'base64').length, 16);
  for (const bytes of [4, 8, 12, 15]) {
    const truncated = { ...sealed, tag: Buffer.from(sealed.tag, 'base64').subarray(0, bytes).toString('base64') };
    assert.throws(
      () => unseal(key, truncated, 'server-a/tokens'),
      /decryption failed: wrong key, or the data was altered/,
      `${bytes}-byte tag`,
    );
  }
  assert.throws(() => unseal(randomBytes(32), sealed, 'server-a/tokens'), /decryption failed/);
  assert.throws(() => unseal(key, sealed, 'server-b/tokens'), /decryption failed/);
});
