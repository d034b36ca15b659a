// No request into a private network from a URL a server names (issue 14): the OAuth fetch
// with its NetworkPolicy, in this process, with a resolver that maps test names to addresses
// without DNS and a socket-layer guard that refuses (and records) any connect outside
// 127.0.0.0/8 and ::1, so nothing ever leaves this machine even with the protection off.
// End to end against the test authorization server: test/oauth-network-login.test.js.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { installLoopbackGuard, fakeLookup } from './helpers/loopbackOnly.js';
import { createOAuthFetch } from '../dist/oauth/oauthFetch.js';
import { NetworkPolicy } from '../dist/oauth/networkPolicy.js';
import { checkEndpointUrl } from '../dist/oauth/urlRules.js';

const guard = installLoopbackGuard();

/** A resolver over `hosts` that records every name asked. */
function recordingResolver(hosts) {
  const asked = [];
  const lookup = fakeLookup(hosts);
  return { asked, resolve: (name, options, callback) => (asked.push(name), lookup(name, options, callback)) };
}

async function localServer() {
  const server = createServer((req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: server.address().port };
}

const HOSTS = {
  'mcp.example.test': '93.184.215.14', // the configured server: public (never connected to)
  'internal.example.test': '10.0.0.1',
  'metadata.example.test': '169.254.169.254',
  'cgnat.example.test': '100.64.1.1',
  'ula.example.test': 'fd00:ec2::254',
  'loop.example.test': '127.0.0.1',
};

test('a server on a public address: every private, link-local, loopback or special address is refused before any connection, in any spelling', async () => {
  const { asked, resolve } = recordingResolver(HOSTS);
  const fetchFn = createOAuthFetch(undefined, { network: new NetworkPolicy(['https://mcp.example.test/mcp'], resolve), timeoutMs: 2000 });
  const refused = [
    ['https://internal.example.test/.well-known/oauth-authorization-server', /resolves to 10\.0\.0\.1, a private address/],
    ['https://metadata.example.test/latest/meta-data/', /resolves to 169\.254\.169\.254, a link-local address/],
    ['https://cgnat.example.test/token', /carrier-grade NAT/],
    ['https://ula.example.test/token', /resolves to fd00:ec2::254, a unique-local address/],
    ['https://loop.example.test/token', /a loopback address/],
    ['https://169.254.169.254/latest/meta-data/', /is 169\.254\.169\.254, a link-local address/],
    ['https://2852039166/latest/', /169\.254\.169\.254, a link-local/],
    ['https://0xa9fea9fe/', /link-local/],
    ['https://[::ffff:a9fe:a9fe]/', /link-local/],
    ['https://[fd00:ec2::254]/latest/', /unique-local/],
    ['https://10.0.0.1/register', /private/],
    ['https://012.0.0.1/register', /private/],
    ['https://[::ffff:10.0.0.1]/register', /private/],
    ['https://192.168.1.1/', /private/],
    ['https://172.16.0.1/', /private/],
    ['https://100.64.0.1/', /carrier-grade NAT/],
    ['https://224.0.0.1/', /multicast/],
    ['https://0.0.0.0/', /unspecified/],
    ['https://[::]/', /unspecified/],
    ['http://127.0.0.1/token', /loopback/],
    ['http://2130706433/token', /loopback/],
    ['http://[::1]/token', /loopback/],
  ];
  for (const [url, reason] of refused) {
    await assert.rejects(
      fetchFn(url),
      (error) =>
        error.code === 'unsafe_authorization_server' &&
        error.name === 'PrivateNetworkError' &&
        reason.test(error.message) &&
        /server-side request forgery/.test(error.message),
      url,
    );
  }
  assert.deepEqual(guard.attempts, [], 'no connection was attempted');
  for (const name of ['internal.example.test', 'metadata.example.test', 'ula.example.test'])
    assert.ok(asked.includes(name), `${name} was resolved`);
});

test('a server on 127.0.0.1 may have its authorization server on loopback (by address or by name), and still not on a private or link-local one', async () => {
  const { server, port } = await localServer();
  try {
    const { resolve } = recordingResolver(HOSTS);
    const fetchFn = createOAuthFetch(undefined, {
      network: new NetworkPolicy([`http://127.0.0.1:${port + 1}/mcp`], resolve),
      timeoutMs: 2000,
    });
    assert.deepEqual(await (await fetchFn(`http://127.0.0.1:${port}/x`)).json(), { ok: true });
    assert.deepEqual(await (await fetchFn(`http://2130706433:${port}/x`)).json(), { ok: true });
    // A name resolving to loopback is connected to at the address that was checked.
    assert.deepEqual(
      await (
        await fetchFn(`https://loop.example.test:${port}/x`).catch((error) => ({ error }))
      ).error?.name,
      'TransientAuthError',
      'https to a plain http server fails, but the connection was made',
    );
    await assert.rejects(fetchFn('https://internal.example.test/x'), /private address/);
    await assert.rejects(fetchFn('https://169.254.169.254/x'), /link-local/);
    assert.deepEqual(guard.attempts, []);
  } finally {
    server.close();
  }
});

test('a server on a private address may have its authorization server on another private address (never connected to here: the policy only)', async () => {
  const { resolve } = recordingResolver(HOSTS);
  const policy = new NetworkPolicy(['https://10.1.2.3/mcp'], resolve);
  await policy.checkUrl(new URL('https://internal.example.test/token'), 'the token endpoint');
  await policy.checkUrl(new URL('https://192.168.0.10/token'), 'the token endpoint');
  await assert.rejects(policy.checkUrl(new URL('https://metadata.example.test/'), 'x'), /link-local/);
  await assert.rejects(policy.checkUrl(new URL('https://127.0.0.1/'), 'x'), /loopback/);
  const configuredByName = new NetworkPolicy(['https://internal.example.test/mcp'], resolve);
  await configuredByName.checkUrl(new URL('https://10.9.9.9/'), 'x');
});

test('the address checked is the one connected to: a name answering a loopback address first and a private one next never reaches the private one', async () => {
  const { server, port } = await localServer();
  try {
    let calls = 0;
    const rebinding = (name, options, callback) => fakeLookup({ [name]: calls++ % 2 ? '10.0.0.1' : '127.0.0.1' })(name, options, callback);
    const fetchFn = createOAuthFetch(undefined, {
      network: new NetworkPolicy([`http://127.0.0.1:${port}/mcp`], rebinding),
      timeoutMs: 2000,
    });
    const outcomes = [];
    for (let i = 0; i < 4; i++) {
      // A new connection each time (Connection: close), so each resolves again.
      outcomes.push(
        await fetchFn(`http://localhost:${port}/x`, { headers: { connection: 'close' } }).then(
          (r) => r.status,
          (error) => error.message,
        ),
      );
    }
    assert.ok(outcomes.includes(200), JSON.stringify(outcomes));
    assert.ok(
      outcomes.some((o) => /resolves to 10\.0\.0\.1, a private address/.test(String(o))),
      JSON.stringify(outcomes),
    );
    assert.deepEqual(guard.attempts, [], 'the private address was never connected to');
  } finally {
    server.close();
  }
});

test('URLs with credentials are refused wherever a URL is learned from a server', async () => {
  for (const url of ['https://user:pw@auth.example.test/token', 'https://user@auth.example.test/', 'http://:secret@127.0.0.1/x']) {
    assert.throws(
      () => checkEndpointUrl(url, 'the token_endpoint'),
      /the token_endpoint carries credentials .*never accepted from a server/,
      url,
    );
    await assert.rejects(createOAuthFetch(fetch)(url), /carries credentials/, url);
  }
  assert.doesNotMatch(
    String(
      (() => {
        try {
          checkEndpointUrl('https://user:hunter2pw@auth.example.test/', 'x');
        } catch (e) {
          return e.message;
        }
      })(),
    ),
    /hunter2pw/,
    'the password is not repeated',
  );
});
