// The gateway's pure parts on their own, beside the end-to-end tests that run them in a real
// gateway: BM25 ranking, the call relay (over an in-memory transport, with stand-in servers),
// the list_changed notices, the startup gate, the capabilities relayed to servers and the
// gateway's instructions. Timers are node:test's mock timers: no test waits for a clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Bm25Index, tokenize } from '../dist/gateway/meta/bm25.js';
import { CallRelay } from '../dist/gateway/callRelay.js';
import { ListNotices } from '../dist/gateway/listNotices.js';
import { StartupGate } from '../dist/gateway/startupGate.js';
import { relayedClientCapabilities } from '../dist/gateway/clientRequests.js';
import { gatewayInstructions } from '../dist/gateway/gatewayInstructions.js';
import { Logger } from '../dist/log/logger.js';
import { QUERIES, toolCorpus } from './fixtures/search/toolCorpus.js';

/** A logger whose lines are kept (level info unless told). */
function capturingLog(level = 'info') {
  const lines = [];
  const log = new Logger({ level, sink: (line) => lines.push(line.trimEnd()) });
  return { log, lines };
}

// --- BM25 -------------------------------------------------------------------------------

test('tokenize splits snake_case, kebab-case and camelCase, drops stop words, folds synonyms and stems', () => {
  assert.deepEqual(tokenize('create_pull_request'), ['creat', 'pull', 'request']);
  assert.deepEqual(tokenize('listOpenIssues'), ['list', 'creat', 'issu'], '"open" is "create"');
  assert.deepEqual(tokenize('get-the-weather for me'), ['weather'], 'stop words go');
  assert.deepEqual(tokenize('Open a PR'), tokenize('make pr'));
  // Word forms meet at one stem.
  assert.deepEqual(tokenize('creating pull requests'), tokenize('create_pull_request'));
  assert.deepEqual(tokenize('share sharing shared shares'), ['shar', 'shar', 'shar', 'shar']);
  assert.deepEqual(tokenize('queries query'), ['query', 'query']);
  assert.deepEqual(tokenize('bus gas'), ['bus', 'gas'], 'short words are left alone');
});

test('tokenize: a synonym meets its own word forms ("scheduled" finds schedule_meeting as "schedule" does)', () => {
  assert.deepEqual(tokenize('scheduled'), tokenize('schedule'));
  assert.deepEqual(tokenize('opening'), tokenize('open'));
});

test('BM25: a match in the name outranks one in the description; a rare term outranks a common one', () => {
  const doc = (name, description) => ({
    item: name,
    fields: [
      { text: name, weight: 3 },
      { text: description, weight: 1 },
    ],
  });
  const index = new Bm25Index([
    doc('send_message', 'Send a chat message to a channel'),
    doc('list_channels', 'List every channel; each message lives in one'),
    doc('get_forecast', 'The weather forecast for a place'),
    doc('delete_message', 'Delete a message'),
  ]);
  assert.deepEqual(
    index
      .search('message')
      .map((r) => r.item)
      .slice(0, 2)
      .sort(),
    ['delete_message', 'send_message'],
  );
  assert.ok(index.search('message').findIndex((r) => r.item === 'list_channels') === 2, 'the description-only match comes last');
  // "forecast" is in one document, "message" in three: the rare word decides.
  assert.equal(index.search('forecast message')[0].item, 'get_forecast');
  assert.deepEqual(index.search('nothing here matches'), []);
  assert.equal(index.search('message', 1).length, 1);
  const scores = index.search('message').map((r) => r.score);
  assert.deepEqual(
    scores,
    [...scores].sort((a, b) => b - a),
    'best first',
  );
});

test('BM25 over the 200-tool corpus: the right tool is in the top 3 for every query', () => {
  const documents = Object.entries(toolCorpus()).flatMap(([server, tools]) =>
    tools.map((tool) => ({
      item: `${server}.${tool.name}`,
      fields: [
        { text: tool.name, weight: 3 },
        { text: tool.description, weight: 1 },
        { text: server, weight: 1 },
      ],
    })),
  );
  const index = new Bm25Index(documents);
  const misses = QUERIES.filter(([query, server, tool]) => !index.search(query, 3).some((r) => r.item === `${server}.${tool}`));
  assert.deepEqual(misses, []);
});

// --- The call relay ---------------------------------------------------------------------

/** A stand-in downstream: what the relay uses of one (name, state, config, send), with what it was sent. */
function standIn(name, { timeout, failSend } = {}) {
  const sent = [];
  return {
    name,
    state: { status: 'ready' },
    config: { timeout },
    sent,
    async send(message) {
      if (failSend) throw new Error(failSend);
      sent.push(message);
    },
  };
}

const mockedTimers = new WeakSet();

/** A relay whose client side is an in-memory transport; `toClient` holds what the client received. */
function relayFor(t, servers, { maxInFlight, raw } = {}) {
  // Every relayed call has a deadline (60 s by default): the clock is the test's.
  if (!mockedTimers.has(t)) t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  mockedTimers.add(t);
  const clock = { now: () => Date.now(), setTimeout: (fire, ms) => setTimeout(fire, ms), clearTimeout: (timer) => clearTimeout(timer) };
  const [clientSide, gatewaySide] = InMemoryTransport.createLinkedPair();
  const toClient = [];
  clientSide.onmessage = (message) => toClient.push(message);
  const rawLines = [];
  const { log, lines } = capturingLog('warn');
  const route = (name) => {
    const [server, tool] = name.split('__');
    return servers[server] && tool ? { server: servers[server], tool } : undefined;
  };
  const relay = new CallRelay(gatewaySide, route, log, raw ? (line) => rawLines.push(line) : undefined, maxInFlight, clock);
  return { relay, toClient, rawLines, logLines: lines };
}

const callRequest = (id, name, extra = {}) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: { text: 'x' }, ...extra },
});

test("relay: a call goes to its server under the tool's own name and a gateway id; the answer comes back under the client's id", (t) => {
  const a = standIn('a');
  const { relay, toClient } = relayFor(t, { a });
  assert.equal(relay.fromClient(callRequest(7, 'a__echo')), true);
  assert.deepEqual(a.sent, [{ jsonrpc: '2.0', id: 'gw-1', method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' } } }]);
  assert.equal(relay.fromServer(a, { jsonrpc: '2.0', id: 'gw-1', result: { content: [{ type: 'text', text: 'a:x' }] } }), true);
  assert.deepEqual(toClient, [{ jsonrpc: '2.0', id: 7, result: { content: [{ type: 'text', text: 'a:x' }] } }]);
  // Answered once: a repeat of the answer is not the relay's.
  assert.equal(relay.fromServer(a, { jsonrpc: '2.0', id: 'gw-1', result: {} }), false);
});

test('relay: a server\'s JSON-RPC error reaches the client naming the server, without the SDK\'s "MCP error" prefix', (t) => {
  const a = standIn('a');
  const { relay, toClient } = relayFor(t, { a });
  relay.fromClient(callRequest('r1', 'a__boom'));
  relay.fromServer(a, { jsonrpc: '2.0', id: 'gw-1', error: { code: -32603, message: 'MCP error -32603: it broke', data: { x: 1 } } });
  assert.deepEqual(toClient, [{ jsonrpc: '2.0', id: 'r1', error: { code: -32603, message: 'a: it broke', data: { x: 1 } } }]);
});

test('relay: what it does not take falls through to the SDK server (unknown tool, server not ready, other messages)', (t) => {
  const a = standIn('a');
  const { relay } = relayFor(t, { a });
  assert.equal(relay.fromClient(callRequest(1, 'nope__echo')), false);
  assert.equal(relay.fromClient({ jsonrpc: '2.0', id: 2, method: 'tools/list' }), false);
  assert.equal(
    relay.fromClient({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 99 } }),
    false,
    'a cancellation of a call it does not hold',
  );
  a.state = { status: 'reconnecting', reason: 'process exited', attempt: 1, nextAttemptAt: 0 };
  assert.equal(relay.fromClient(callRequest(3, 'a__echo')), false);
  assert.deepEqual(a.sent, []);
});

test('relay: an answer from another server under a pending id is not taken for the call', (t) => {
  const a = standIn('a');
  const b = standIn('b');
  const { relay, toClient } = relayFor(t, { a, b });
  relay.fromClient(callRequest(1, 'a__echo'));
  assert.equal(relay.fromServer(b, { jsonrpc: '2.0', id: 'gw-1', result: {} }), false);
  assert.equal(relay.fromServer(a, { jsonrpc: '2.0', id: 1, result: {} }), false, 'a non-gateway id');
  assert.deepEqual(toClient, []);
});

test('relay: past the in-flight limit a call fails at once saying why; a finished call frees its place', (t) => {
  const a = standIn('a');
  const { relay, toClient } = relayFor(t, { a }, { maxInFlight: 1 });
  relay.fromClient(callRequest(1, 'a__sleep'));
  assert.equal(relay.fromClient(callRequest(2, 'a__echo')), true);
  assert.equal(a.sent.length, 1, 'the second call never reached the server');
  assert.equal(toClient[0].id, 2);
  assert.equal(toClient[0].result.isError, true);
  assert.match(
    toClient[0].result.content[0].text,
    /Server "a" already has 1 calls in flight, the gateway's limit \(gateway\.maxCallsInFlight\)/,
  );
  relay.fromServer(a, { jsonrpc: '2.0', id: 'gw-1', result: {} });
  relay.fromClient(callRequest(3, 'a__echo'));
  assert.equal(a.sent.length, 2, 'the third went through');
});

test("relay: a call times out after the server's timeout: the client gets why, the server a cancellation", (t) => {
  const a = standIn('a', { timeout: 300 });
  const { relay, toClient, logLines } = relayFor(t, { a });
  relay.fromClient(callRequest(5, 'a__sleep'));
  t.mock.timers.tick(299);
  assert.deepEqual(toClient, []);
  t.mock.timers.tick(1);
  assert.equal(toClient.length, 1);
  assert.deepEqual(toClient[0], {
    jsonrpc: '2.0',
    id: 5,
    result: { isError: true, content: [{ type: 'text', text: 'Server "a" could not complete sleep: timed out after 300 ms' }] },
  });
  assert.deepEqual(a.sent.at(-1), {
    jsonrpc: '2.0',
    method: 'notifications/cancelled',
    params: { requestId: 'gw-1', reason: 'timed out after 300 ms' },
  });
  assert.match(logLines.join('\n'), /call to a__sleep failed: timed out after 300 ms/);
  // The late answer is dropped.
  assert.equal(relay.fromServer(a, { jsonrpc: '2.0', id: 'gw-1', result: {} }), false);
});

test('relay: progress for a call reaches the client and restarts its timeout; progress for another token does not', (t) => {
  const a = standIn('a', { timeout: 100 });
  const { relay, toClient } = relayFor(t, { a });
  relay.fromClient(callRequest(1, 'a__progress', { _meta: { progressToken: 'p1' } }));
  const progress = (token) => ({
    jsonrpc: '2.0',
    method: 'notifications/progress',
    params: { progressToken: token, progress: 1, total: 3 },
  });
  t.mock.timers.tick(80);
  assert.equal(relay.fromServer(a, progress('p1')), true);
  assert.equal(relay.fromServer(a, progress('other')), false);
  t.mock.timers.tick(80);
  assert.deepEqual(toClient, [progress('p1')], 'not timed out: 80 ms since the progress');
  t.mock.timers.tick(20);
  assert.equal(toClient.length, 2);
  assert.match(toClient[1].result.content[0].text, /timed out after 100 ms/);
});

test("relay: the client's cancellation reaches the server under the gateway's id, and the call is over", (t) => {
  const a = standIn('a');
  const { relay, toClient } = relayFor(t, { a });
  relay.fromClient(callRequest('c9', 'a__sleep'));
  assert.equal(
    relay.fromClient({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'c9', reason: 'user pressed stop' } }),
    true,
  );
  assert.deepEqual(a.sent.at(-1), {
    jsonrpc: '2.0',
    method: 'notifications/cancelled',
    params: { requestId: 'gw-1', reason: 'user pressed stop' },
  });
  assert.equal(relay.fromServer(a, { jsonrpc: '2.0', id: 'gw-1', result: {} }), false);
  assert.deepEqual(toClient, [], 'a cancelled request is not answered (the client stopped waiting)');
});

test('relay: a server that goes away fails its calls in flight with the reason, and only its own', (t) => {
  const a = standIn('a');
  const b = standIn('b');
  const { relay, toClient } = relayFor(t, { a, b });
  relay.fromClient(callRequest(1, 'a__sleep'));
  relay.fromClient(callRequest(2, 'b__sleep'));
  a.state = { status: 'reconnecting', reason: 'process exited', attempt: 1, nextAttemptAt: 0 };
  relay.serverGone(a);
  assert.deepEqual(
    toClient.map((m) => [m.id, m.result.content[0].text]),
    [[1, 'Server "a" could not complete sleep: the server disconnected during the call (process exited; the gateway is reconnecting it)']],
  );
  relay.serverGone(b, 'connection closed by the server');
  assert.equal(
    toClient[1].result.content[0].text,
    'Server "b" could not complete sleep: the server disconnected during the call (connection closed by the server)',
  );
});

test('relay: a call the server cannot be sent fails with why', async (t) => {
  const a = standIn('a', { failSend: 'Not connected' });
  const { relay, toClient } = relayFor(t, { a });
  relay.fromClient(callRequest(1, 'a__echo'));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(toClient[0].result.content[0].text, 'Server "a" could not complete echo: Not connected');
});

test('relay: a large answer line is passed on as it is, only its id swapped; a line it does not own is left to the parser', (t) => {
  const a = standIn('a');
  const b = standIn('b');
  const { relay, rawLines, toClient } = relayFor(t, { a, b }, { raw: true });
  relay.fromClient(callRequest('up-1', 'a__big'));
  const body = `{"result":{"content":[{"type":"text","text":"${'x'.repeat(1000)}"}]},"jsonrpc":"2.0","id":"gw-1"}`;
  assert.equal(relay.fromServerRawLine(b, body), false, 'not from the server the call went to');
  assert.equal(relay.fromServerRawLine(a, body.replace('"id":"gw-1"}', '"id":"gw-1","x":1}')), false, 'the id is not the last member');
  assert.equal(relay.fromServerRawLine(a, `{"jsonrpc":"2.0","method":"x","params":{"id":"gw-1"}}`), false, 'not an answer');
  assert.equal(relay.fromServerRawLine(a, body), true);
  const line = rawLines[0].join('');
  assert.deepEqual(JSON.parse(line), { ...JSON.parse(body), id: 'up-1' });
  assert.equal(line.length, body.length - '"gw-1"'.length + '"up-1"'.length);
  assert.deepEqual(toClient, []);
  assert.equal(relay.fromServer(a, { jsonrpc: '2.0', id: 'gw-1', result: {} }), false, 'the call is over');
});

// --- list_changed notices ---------------------------------------------------------------

/** Catalogs whose signature the test sets; each counts its rebuilds. */
function catalogs() {
  const make = () => ({
    value: 'v1',
    rebuilds: 0,
    rebuild() {
      this.rebuilds++;
    },
    signature() {
      return this.value;
    },
  });
  return { tools: make(), resources: make(), prompts: make() };
}

function notices(options = {}) {
  const lists = catalogs();
  const sent = [];
  const box = new ListNotices(lists, async (kind) => void sent.push(kind), new Logger({ level: 'error' }), options.fixed);
  return { lists, sent, box };
}

test('list_changed: only for a list the client has seen, only once it has initialized, and only when it differs', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { lists, sent, box } = notices();
  lists.tools.value = 'v2';
  box.rebuild();
  box.initialized();
  t.mock.timers.tick(100);
  assert.deepEqual(sent, [], 'the client never listed tools');

  box.listed('tools');
  box.rebuild();
  t.mock.timers.tick(100);
  assert.deepEqual(sent, [], 'the same as the client saw');
  assert.equal(lists.tools.rebuilds, 2, 'every rebuild rebuilds the catalogs');

  lists.tools.value = 'v3';
  box.rebuild();
  t.mock.timers.tick(100);
  assert.deepEqual(sent, ['tools']);
  box.rebuild();
  t.mock.timers.tick(100);
  assert.deepEqual(sent, ['tools'], 'what was notified counts as seen');
});

test('list_changed: nothing goes out before the client has initialized; then what is pending does', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { lists, sent, box } = notices();
  box.listed('prompts');
  lists.prompts.value = 'v2';
  box.rebuild();
  t.mock.timers.tick(100);
  assert.deepEqual(sent, []);
  box.initialized();
  t.mock.timers.tick(100);
  assert.deepEqual(sent, ['prompts']);
});

test('list_changed: many changes together give one notification per list (coalesced over 20 ms)', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { lists, sent, box } = notices();
  box.initialized();
  for (const kind of ['tools', 'resources', 'prompts']) box.listed(kind);
  for (let i = 0; i < 5; i++) {
    lists.tools.value = `t${i}`;
    lists.resources.value = `r${i}`;
    box.rebuild();
    t.mock.timers.tick(3);
  }
  assert.deepEqual(sent, [], 'still inside the window');
  t.mock.timers.tick(20);
  assert.deepEqual(sent.sort(), ['resources', 'tools']);
});

test("list_changed: a fixed list (meta mode's tools) is never notified", (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { lists, sent, box } = notices({ fixed: new Set(['tools']) });
  box.initialized();
  box.listed('tools');
  lists.tools.value = 'v2';
  box.rebuild();
  t.mock.timers.tick(100);
  assert.deepEqual(sent, []);
});

// --- The startup gate -------------------------------------------------------------------

/** Stand-in servers: EventEmitters with a name, a state and fromCache; `set` emits `changed` for any. */
function servers(states) {
  const set = new EventEmitter();
  const list = Object.entries(states).map(([name, state]) => {
    const server = Object.assign(new EventEmitter(), { name, state, fromCache: false });
    server.move = (next) => {
      server.state = next;
      set.emit('changed');
    };
    return server;
  });
  return { set, list, byName: Object.fromEntries(list.map((s) => [s.name, s])) };
}

function gate(states, timeoutMs = 20_000) {
  const fleet = servers(states);
  const { log, lines } = capturingLog();
  const startup = new StartupGate(fleet.list, timeoutMs, log, (listener) => fleet.set.on('changed', listener));
  return { ...fleet, startup, lines };
}

/** Whether a promise has settled by now (after the microtasks queued so far). */
async function settled(promise) {
  let done = false;
  promise.then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

test('startup gate: the first lists wait until every server has settled (ready, failed, or a login that cannot finish by itself)', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { byName, startup, lines } = gate({ a: { status: 'connecting' }, b: { status: 'connecting' }, c: { status: 'connecting' } });
  startup.start();
  const first = startup.ready();
  assert.equal(await settled(first), false);
  assert.deepEqual(lines, ['the first list waits for 3 servers to start (at most 20 s): a, b, c']);
  byName.a.move({ status: 'ready' });
  byName.b.move({ status: 'needs-auth', reason: 'login', loginInProgress: true });
  assert.equal(await settled(first), false, 'a login under way may still finish');
  assert.equal(lines.at(-1), 'the first list waits for 2 servers to start (at most 20 s): b, c');
  byName.b.move({ status: 'needs-auth', reason: 'headless', loginInProgress: false });
  byName.c.move({ status: 'failed', reason: 'command not found' });
  assert.equal(await settled(first), true);
  assert.equal(await settled(startup.ready()), true, 'open once, open for good');
  byName.a.move({ status: 'reconnecting', reason: 'x', attempt: 1, nextAttemptAt: 0 });
  assert.equal(await settled(startup.ready()), true);
  assert.ok(!lines.some((line) => /answering the first list without/.test(line)));
});

test('startup gate: servers with a cached catalog and disabled servers never hold the first list', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { byName, startup } = gate({ cached: { status: 'connecting' }, off: { status: 'disabled' } });
  byName.cached.fromCache = true;
  startup.start();
  assert.deepEqual(startup.pending(), []);
  assert.equal(await settled(startup.ready()), true);
});

test('startup gate: at the deadline the first list is answered without the late servers, naming them', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { byName, startup, lines } = gate({ fast: { status: 'connecting' }, slow: { status: 'connecting' } }, 3000);
  startup.start();
  const first = startup.ready();
  byName.fast.move({ status: 'ready' });
  t.mock.timers.tick(2999);
  assert.equal(await settled(first), false);
  t.mock.timers.tick(1);
  assert.equal(await settled(first), true);
  assert.equal(
    lines.at(-1),
    'warn: answering the first list without slow: not started after 3000 ms (gateway.startupTimeout); their tools follow with list_changed',
  );
});

test('startup gate: the deadline runs from start(); nobody waiting, nothing is said; close() opens it', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const quiet = gate({ slow: { status: 'connecting' } }, 1000);
  quiet.startup.start();
  t.mock.timers.tick(1000);
  assert.deepEqual(quiet.lines, [], 'no list waited: no warning');
  assert.equal(await settled(quiet.startup.ready()), true);

  const closing = gate({ slow: { status: 'connecting' } }, 1000);
  closing.startup.start();
  const first = closing.startup.ready();
  closing.startup.close();
  assert.equal(await settled(first), true);
});

// --- What the gateway tells servers and clients -----------------------------------------

test('a server is told exactly the sampling, elicitation and roots capabilities the client declared, nothing else', () => {
  assert.deepEqual(relayedClientCapabilities(undefined), {});
  assert.deepEqual(relayedClientCapabilities({}), {});
  assert.deepEqual(
    relayedClientCapabilities({ sampling: {}, elicitation: { url: {} }, roots: { listChanged: true }, experimental: { x: {} }, tasks: {} }),
    { sampling: {}, elicitation: { url: {} }, roots: { listChanged: true } },
  );
  assert.deepEqual(relayedClientCapabilities({ roots: {} }), { roots: {} });
});

test("gateway instructions: each server's under its name; none without any; cut at 2,000 characters a server and 8,000 in all", () => {
  const server = (name, instructions, status = 'ready') => ({ name, instructions, state: { status } });
  assert.equal(gatewayInstructions([server('a', undefined), server('b', '   ')]), undefined);
  const text = gatewayInstructions([
    server('a', '  Use a for arithmetic.  '),
    server('off', 'Never shown', 'disabled'),
    server('b', 'B does echoes.'),
  ]);
  assert.equal(
    text,
    'This gateway combines several MCP servers. Their tools are named <server>__<tool>. What each server says of itself:\n\n## a\nUse a for arithmetic.\n\n## b\nB does echoes.',
  );
  assert.match(gatewayInstructions([server('a', 'x')], 'meta'), /Reach their tools with search_tools, get_server_tools and execute_tool\./);

  const long = gatewayInstructions([server('long', 'y'.repeat(5000))]);
  const section = long.split('## long\n')[1];
  assert.equal(section.length, 2000);
  assert.ok(section.endsWith('y…'));

  const many = gatewayInstructions(Array.from({ length: 6 }, (_, i) => server(`s${i}`, 'z'.repeat(1990))));
  const names = [...many.matchAll(/^## (s\d)$/gm)].map((m) => m[1]);
  assert.deepEqual(names, ['s0', 's1', 's2', 's3'], 'the fifth would pass 8,000 characters');
  assert.ok(many.split('\n\n').slice(1).join('\n\n').length <= 8000 + 3 * 2);
});
