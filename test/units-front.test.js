// The HTTP front's pure parts: which session a server's request goes to, the union of client
// capabilities, the event store, the Origin/Host checks, listen addresses, tokens, log levels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseSession } from '../dist/gateway/sessionRouting.js';
import { unionOfClientCapabilities } from '../dist/gateway/clientRequests.js';
import { KEPT_EVENTS, KEPT_EVENTS_MS, SessionEventStore } from '../dist/front/eventStore.js';
import { allowedOrigins, hostAllowed, originAllowed } from '../dist/front/requestGuards.js';
import { parseListenAddress } from '../dist/config/jsonChecks.js';
import { AccessTokenCheck, bearerToken } from '../dist/front/accessToken.js';
import { levelWanted, mostVerbose } from '../dist/gateway/sessionSettings.js';
import { clientAddress, publicOrigin } from '../dist/front/forwarded.js';

const call = (n, upstreamId = n) => ({ id: `gw-${n}`, upstreamId });

test('a server request goes to the only session with calls in flight to that server, on its oldest call not yet asked for', () => {
  const candidates = [
    { session: 'a', calls: [] },
    { session: 'b', calls: [call(4), call(9)] },
  ];
  assert.deepEqual(chooseSession(candidates, new Set()), { session: 'b', call: call(4) });
  assert.deepEqual(chooseSession(candidates, new Set(['gw-4'])), { session: 'b', call: call(9) });
  assert.deepEqual(chooseSession(candidates, new Set(['gw-4', 'gw-9'])), { session: 'b', call: call(9) }, 'all asked: the newest');
});

test('with calls of several sessions in flight, a server request goes to the oldest call that has not yet made one', () => {
  const candidates = [
    { session: 'a', calls: [call(12), call(30)] },
    { session: 'b', calls: [call(10)] },
    { session: 'c', calls: [call(11)] },
  ];
  assert.equal(chooseSession(candidates, new Set()).session, 'b');
  assert.equal(chooseSession(candidates, new Set(['gw-10'])).session, 'c');
  assert.deepEqual(chooseSession(candidates, new Set(['gw-10', 'gw-11'])), { session: 'a', call: call(12) });
  assert.deepEqual(chooseSession(candidates, new Set(['gw-10', 'gw-11', 'gw-12', 'gw-30'])), { session: 'a', call: call(30) });
});

test('with no call in flight, a server request goes to the first session that connected; with no candidate, nowhere', () => {
  assert.deepEqual(
    chooseSession(
      [
        { session: 'x', calls: [] },
        { session: 'y', calls: [] },
      ],
      new Set(),
    ),
    { session: 'x' },
  );
  assert.equal(chooseSession([], new Set()), undefined);
});

test('the union of client capabilities keeps each relayed capability any client declared; an empty elicitation means form', () => {
  assert.deepEqual(unionOfClientCapabilities([]), {});
  assert.deepEqual(
    unionOfClientCapabilities([
      { sampling: {}, elicitation: {} },
      { elicitation: { url: {} }, roots: { listChanged: true }, experimental: { x: {} } },
      undefined,
    ]),
    { sampling: {}, elicitation: { form: {}, url: {} }, roots: { listChanged: true } },
  );
  assert.deepEqual(unionOfClientCapabilities([{ elicitation: { url: {} } }]), { elicitation: { url: {} } }, 'url only stays url only');
});

test("the event store replays what came after an event on that event's stream only, without priming events", async () => {
  const store = new SessionEventStore();
  const message = (id) => ({ jsonrpc: '2.0', id, result: {} });
  const primed = await store.storeEvent('s1', {});
  await store.storeEvent('s2', message(99));
  await store.storeEvent('s1', message(1));
  await store.storeEvent('s1', message(2));
  const sent = [];
  assert.equal(await store.replayEventsAfter(primed, { send: async (id, m) => void sent.push([id, m.id]) }), 's1');
  assert.deepEqual(
    sent.map(([, id]) => id),
    [1, 2],
  );
  assert.equal(await store.getStreamIdForEventId(primed), 's1');
  assert.equal(await store.getStreamIdForEventId('12345'), undefined, 'an id never given');
});

test('the event store keeps the last messages of the last minutes only', async () => {
  let now = 0;
  const store = new SessionEventStore(() => now);
  const first = await store.storeEvent('s', { jsonrpc: '2.0', method: 'm' });
  for (let i = 0; i < KEPT_EVENTS; i++) await store.storeEvent('s', { jsonrpc: '2.0', method: 'm' });
  assert.equal(await store.getStreamIdForEventId(first), undefined, 'pushed out by newer ones');
  const recent = await store.storeEvent('s', { jsonrpc: '2.0', method: 'm' });
  now += KEPT_EVENTS_MS + 1;
  await store.storeEvent('s', { jsonrpc: '2.0', method: 'm' });
  assert.equal(await store.getStreamIdForEventId(recent), undefined, 'too old');
});

const req = (headers, remoteAddress = '127.0.0.1') => ({ headers, socket: { remoteAddress } });

test('Origin: absent or allowed only; a loopback listener allows its own origins, never one derived from Host', () => {
  const allowed = allowedOrigins(['https://App.example.com/'], '127.0.0.1', 8808);
  assert.ok(originAllowed(req({}), allowed));
  assert.ok(originAllowed(req({ origin: 'https://app.example.com' }), allowed));
  assert.ok(originAllowed(req({ origin: 'http://localhost:8808' }), allowed));
  assert.ok(!originAllowed(req({ origin: 'http://localhost:9999' }), allowed));
  assert.ok(!originAllowed(req({ origin: 'http://evil.example:8808', host: 'evil.example:8808' }), allowed));
  assert.ok(!originAllowed(req({ origin: 'null' }), allowed));
  assert.deepEqual([...allowedOrigins([], '0.0.0.0', 80)], [], 'a listener on every interface has no origin of its own');
});

test('Host on a loopback listener: a loopback name and the port, nothing else', () => {
  for (const host of ['127.0.0.1:8808', 'localhost:8808', '[::1]:8808', 'localhost', '127.0.0.2:8808'])
    assert.ok(hostAllowed(req({ host }), 8808), host);
  for (const host of ['evil.example:8808', 'localhost:8809', '', 'localhost.evil.example:8808', '[::2]:8808'])
    assert.ok(!hostAllowed(req({ host }), 8808), host);
});

test('listen addresses: [HOST:]PORT, 127.0.0.1 when no host is given', () => {
  assert.deepEqual(parseListenAddress('8808'), { host: '127.0.0.1', port: 8808 });
  assert.deepEqual(parseListenAddress('0.0.0.0:80'), { host: '0.0.0.0', port: 80 });
  assert.deepEqual(parseListenAddress('[::1]:8808'), { host: '::1', port: 8808 });
  assert.deepEqual(parseListenAddress('localhost:0'), { host: 'localhost', port: 0 });
  for (const bad of ['', 'x', '70000', 'host:', ':80', 'a b:80', '::1:80']) assert.equal(parseListenAddress(bad), undefined, bad);
});

test('the access token: Bearer (any case) only, compared whole', () => {
  assert.equal(bearerToken('Bearer abc-_.~+/='), 'abc-_.~+/=');
  assert.equal(bearerToken('bearer abc'), 'abc');
  for (const header of [undefined, '', 'Basic abc', 'Bearer', 'Bearer a b', 'Bearerabc'])
    assert.equal(bearerToken(header), undefined, header);
  const check = new AccessTokenCheck('secret-token');
  assert.ok(check.matches('secret-token'));
  for (const wrong of [undefined, '', 'secret-toke', 'secret-token2', 'SECRET-TOKEN']) assert.ok(!check.matches(wrong), wrong);
  check.replace('next');
  assert.ok(!check.matches('secret-token') && check.matches('next'));
});

test('log levels of several sessions: the server gets the most verbose; each session the messages at or above its own', () => {
  assert.equal(mostVerbose([undefined, 'error', 'info', 'warning']), 'info');
  assert.equal(mostVerbose([undefined]), undefined);
  assert.ok(levelWanted('error', 'warning'));
  assert.ok(!levelWanted('info', 'warning'));
  assert.ok(levelWanted('debug', undefined), 'a session that set no level gets what the server sends');
});

test('X-Forwarded-* count only behind a proxy the config trusts', () => {
  const proxied = req({
    'x-forwarded-for': '203.0.113.7, 10.0.0.2',
    'x-forwarded-proto': 'https',
    'x-forwarded-host': 'mcp.example.com',
    host: '127.0.0.1:8808',
  });
  assert.equal(clientAddress(proxied, false), '127.0.0.1');
  assert.equal(clientAddress(proxied, true), '203.0.113.7');
  assert.equal(publicOrigin(proxied, false, 'http://127.0.0.1:8808'), 'http://127.0.0.1:8808');
  assert.equal(publicOrigin(proxied, true, 'http://127.0.0.1:8808'), 'https://mcp.example.com');
  assert.equal(publicOrigin(req({ 'x-forwarded-proto': 'gopher', host: 'x' }), true, 'http://own'), 'http://own');
});

// --- The OAuth front's grants ------------------------------------------------------------

const { GrantStore, CODE_MS } = await import('../dist/front/auth/grantStore.js');
const { admitted } = await import('../dist/front/auth/identityProvider.js');
const alice = { subject: 'u1', emails: ['alice@example.com'] };
const grant = { clientId: 'c1', user: alice, scopes: ['mcp'], resource: 'http://127.0.0.1:1/mcp' };
const asked = { redirectUri: 'http://127.0.0.1:9/cb', codeChallenge: 'x', scopes: ['mcp'] };

test('an authorization code works once, for its own client, within a minute', () => {
  let now = 0;
  const store = new GrantStore(3600_000, () => now);
  const code = store.issueCode(grant, asked);
  assert.equal(store.code(code, 'other'), undefined, "another client's");
  assert.equal(store.code(code, 'c1').user, alice);
  assert.ok(store.code(code, 'c1', { take: true }));
  assert.equal(store.code(code, 'c1'), undefined, 'used up');
  const late = store.issueCode(grant, asked);
  now += CODE_MS;
  assert.equal(store.code(late, 'c1'), undefined, 'expired');
});

test('access tokens expire; a refresh retires its token; a retired one used again revokes the whole login', () => {
  let now = 0;
  const store = new GrantStore(1000, () => now);
  const first = store.issueTokens(grant);
  assert.equal(store.accessToken(first.access).clientId, 'c1');
  assert.equal(store.useRefreshToken(first.refresh, 'other'), undefined, "another client's refresh token");
  const used = store.useRefreshToken(first.refresh, 'c1');
  const second = store.issueTokens(used, used.chain);
  assert.equal(store.useRefreshToken(first.refresh, 'c1'), undefined, 'retired');
  assert.equal(store.accessToken(second.access), undefined, 'the reuse revoked the login');
  assert.equal(store.useRefreshToken(second.refresh, 'c1'), undefined);
  const third = store.issueTokens(grant);
  now += 1000;
  assert.equal(store.accessToken(third.access), undefined, 'expired');
  store.revoke(third.refresh, 'other');
  assert.ok(store.useRefreshToken(third.refresh, 'c1'), 'another client cannot revoke it');
});

test('the allow-list admits a verified email in any case, or a subject; nothing else', () => {
  assert.ok(admitted(alice, ['Alice@Example.com']));
  assert.ok(admitted(alice, ['u1']));
  assert.ok(!admitted(alice, ['bob@example.com', 'u2']));
  assert.ok(!admitted({ subject: 'alice@example.com', emails: [] }, ['alice@example.com']), 'an email entry never matches a subject');
});
