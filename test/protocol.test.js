// The whole protocol through the gateway: resources, subscriptions, prompts, completion,
// logging, the servers' own requests (sampling, elicitation, roots), list changes, tool
// filters, live config edits, session resets and the in-flight limit. Real stdio and HTTP
// fixture servers; the SDK's Client on the other side.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { startHttpMcpServer } from './fixtures/http-server.js';
import { trackedGateways, stdioServer, tempDir, toolNames, waitFor, waitForState, writeConfig } from './helpers/gatewayProcess.js';

const gateway = trackedGateways();
const text = (result) => result.content.map((c) => c.text).join('');
const protocolServer = (name, env = {}) => stdioServer(name, { FIXTURE_PROTOCOL_TOOLS: '1', ...env });
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
async function ready(gw, ...names) {
  await waitFor(
    async () => {
      const tools = await toolNames(gw.client);
      return names.every((name) => tools.includes(`${name}__echo`));
    },
    { what: names.join(', ') },
  );
}

test('resources: listed from every server, a URI two servers share is disambiguated, reads and templates routed to their owner', async () => {
  const gw = await gateway({ mcpServers: { a: protocolServer('a'), b: protocolServer('b') } });
  await ready(gw, 'a', 'b');
  const caps = gw.client.getServerCapabilities();
  assert.deepEqual(Object.keys(caps).sort(), ['completions', 'logging', 'prompts', 'resources', 'tools']);
  const uris = (await gw.client.listResources()).resources.map((r) => r.uri).sort();
  assert.deepEqual(uris, [
    'fixture://a/info',
    'fixture://b/info',
    'mcp-gateway://a/shared%3A%2F%2Fcommon',
    'mcp-gateway://b/shared%3A%2F%2Fcommon',
  ]);
  const read = async (uri) => (await gw.client.readResource({ uri })).contents[0];
  assert.equal((await read('fixture://b/info')).text, 'info of b');
  const shared = await read('mcp-gateway://b/shared%3A%2F%2Fcommon');
  assert.deepEqual([shared.uri, shared.text], ['mcp-gateway://b/shared%3A%2F%2Fcommon', 'common from b']);
  const templates = (await gw.client.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate).sort();
  assert.deepEqual(templates, ['fixture://a/items/{id}', 'fixture://b/items/{id}']);
  assert.equal((await read('fixture://b/items/42')).text, 'item 42 of b');
  await assert.rejects(gw.client.readResource({ uri: 'nowhere://x' }), /Unknown resource: nowhere:\/\/x/);
});

test('resource subscriptions: notifications/resources/updated come back under the URI the client subscribed to', async () => {
  const gw = await gateway({ mcpServers: { a: protocolServer('a'), b: protocolServer('b') } });
  await ready(gw, 'a', 'b');
  const updates = [];
  gw.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updates.push(n.params.uri));
  await gw.client.subscribeResource({ uri: 'fixture://a/info' });
  await gw.client.subscribeResource({ uri: 'mcp-gateway://b/shared%3A%2F%2Fcommon' });
  assert.equal(text(await gw.client.callTool({ name: 'a__touch', arguments: { uri: 'fixture://a/info' } })), 'notified');
  assert.equal(text(await gw.client.callTool({ name: 'b__touch', arguments: { uri: 'shared://common' } })), 'notified');
  await waitFor(() => updates.length === 2, { what: 'two updates' });
  assert.deepEqual(updates.sort(), ['fixture://a/info', 'mcp-gateway://b/shared%3A%2F%2Fcommon']);
  await gw.client.unsubscribeResource({ uri: 'fixture://a/info' });
  assert.equal(text(await gw.client.callTool({ name: 'a__touch', arguments: { uri: 'fixture://a/info' } })), 'not subscribed');
});

test('prompts as <server>__<prompt>, prompts/get routed; completion routed for prompts and resource templates', async () => {
  const gw = await gateway({ mcpServers: { a: protocolServer('a'), b: protocolServer('b') } });
  await ready(gw, 'a', 'b');
  assert.deepEqual((await gw.client.listPrompts()).prompts.map((p) => p.name).sort(), ['a__greet', 'b__greet']);
  const prompt = await gw.client.getPrompt({ name: 'b__greet', arguments: { who: 'Ada' } });
  assert.equal(prompt.messages[0].content.text, 'b greets Ada');
  const names = await gw.client.complete({ ref: { type: 'ref/prompt', name: 'a__greet' }, argument: { name: 'who', value: 'al' } });
  assert.deepEqual(names.completion.values, ['alice', 'albert']);
  const ids = await gw.client.complete({
    ref: { type: 'ref/resource', uri: 'fixture://b/items/{id}' },
    argument: { name: 'id', value: 'ap' },
  });
  assert.deepEqual(ids.completion.values, ['apple', 'apricot']);
  await assert.rejects(gw.client.getPrompt({ name: 'c__greet' }), /Unknown prompt: c__greet/);
});

test('sampling, elicitation and roots from a server reach a client that supports them, and the answers go back', async () => {
  const gw = await gateway(
    { mcpServers: { a: protocolServer('a') } },
    { connect: false, clientOptions: { capabilities: { sampling: {}, elicitation: {}, roots: { listChanged: true } } } },
  );
  gw.client.setRequestHandler(CreateMessageRequestSchema, async (request) => ({
    model: 'test-model',
    role: 'assistant',
    content: { type: 'text', text: `hi, you said ${request.params.messages[0].content.text}` },
  }));
  gw.client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { name: 'Ada' } }));
  gw.client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: [{ uri: 'file:///work/project' }] }));
  await gw.client.connect(gw.transport);
  await ready(gw, 'a');
  assert.equal(text(await gw.client.callTool({ name: 'a__ask_sampling', arguments: { prompt: 'ping' } })), 'sampled: hi, you said ping');
  assert.equal(
    text(await gw.client.callTool({ name: 'a__ask_elicitation', arguments: { message: 'Your name?' } })),
    'elicited: accept {"name":"Ada"}',
  );
  assert.equal(text(await gw.client.callTool({ name: 'a__ask_roots', arguments: {} })), 'roots: file:///work/project');
});

test('a client without those capabilities is never asked: the server is told the client has none, and a request it sends anyway gets method-not-found', async () => {
  const capsFile = join(tempDir(), 'caps');
  const gw = await gateway({ mcpServers: { a: protocolServer('a', { FIXTURE_CAPS_FILE: capsFile }) } });
  await ready(gw, 'a');
  assert.deepEqual(JSON.parse(readFileSync(capsFile, 'utf8').trim()), {});
  for (const tool of ['a__ask_sampling', 'a__ask_roots']) {
    const outcome = await gw.client.callTool({ name: tool, arguments: { prompt: 'ping' } }).then(
      (result) => text(result),
      (error) => error.message,
    );
    assert.match(outcome, /Method not found/, tool);
  }
});

test('logging/setLevel fans out; server log messages reach the client tagged with the server name', async () => {
  const gw = await gateway({ mcpServers: { a: protocolServer('a'), b: protocolServer('b') } });
  await ready(gw, 'a', 'b');
  const messages = [];
  gw.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void messages.push(n.params));
  await gw.client.setLoggingLevel('error');
  await gw.client.callTool({ name: 'a__log', arguments: { level: 'info', text: 'below the level' } });
  await gw.client.callTool({ name: 'b__log', arguments: { level: 'error', text: 'it broke' } });
  // A last message from a: one below the level, sent before it, would have come before it.
  await gw.client.callTool({ name: 'a__log', arguments: { level: 'error', text: 'last' } });
  await waitFor(() => messages.some((m) => m.data === 'last'), { what: 'the last log message' });
  assert.deepEqual(messages, [
    { level: 'error', logger: 'b/fixture', data: 'it broke' },
    { level: 'error', logger: 'a/fixture', data: 'last' },
  ]);
});

test("a server's tools/list_changed refreshes the aggregate and is forwarded once", async () => {
  const gw = await gateway({ mcpServers: { a: protocolServer('a'), b: protocolServer('b') } });
  await ready(gw, 'a', 'b');
  const before = gw.notifications.length;
  await gw.client.callTool({ name: 'a__add_tool', arguments: { name: 'fresh' } });
  await waitFor(async () => (await toolNames(gw.client)).includes('a__fresh'), { what: 'the new tool' });
  // Time for a second notification that should not come (the coalescing itself: test/units-gateway.test.js).
  await sleep(200);
  const changed = gw.notifications.slice(before).filter((n) => n.method === 'notifications/tools/list_changed');
  assert.equal(changed.length, 1);
  assert.equal(text(await gw.client.callTool({ name: 'a__fresh', arguments: {} })), 'fresh ran');
});

test('tool filters: allow and deny with * wildcards, deny wins; a filtered tool is neither listed nor callable', async () => {
  const gw = await gateway({
    mcpServers: {
      a: { ...protocolServer('a'), tools: { allow: ['e*', 'add', 'calls'], deny: ['env'] } },
      b: { ...stdioServer('b'), tools: { deny: ['*'] } },
    },
  });
  // The first list waits for every server to start (the startup gate): b is there, with nothing to show.
  assert.deepEqual(await toolNames(gw.client), ['a__add', 'a__calls', 'a__echo', 'gateway__status']);
  const { servers } = (await gw.client.callTool({ name: 'gateway__status', arguments: {} })).structuredContent;
  assert.deepEqual(
    servers.map((s) => [s.name, s.state, s.tool_count]),
    [
      ['a', 'ready', 3],
      ['b', 'ready', 0],
    ],
  );
  await assert.rejects(gw.client.callTool({ name: 'a__env', arguments: { name: 'HOME' } }), /Unknown tool: a__env/);
  await assert.rejects(gw.client.callTool({ name: 'a__ask_roots', arguments: {} }), /Unknown tool: a__ask_roots/);
  assert.equal(text(await gw.client.callTool({ name: 'a__calls', arguments: {} })), '0', 'the denied calls never reached the server');
});

test('live config: added servers connect, removed ones close, changed ones restart, an invalid edit keeps the running set', async () => {
  const dir = tempDir();
  const pids = join(dir, 'pids');
  const config = (servers) => ({ mcpServers: servers });
  const path = writeConfig(config({ a: stdioServer('a', { FIXTURE_PID_FILE: pids }), b: stdioServer('b') }), dir);
  const gw = await gateway(path);
  await ready(gw, 'a', 'b');
  const firstPid = readFileSync(pids, 'utf8').trim();
  const before = gw.notifications.length;

  writeFileSync(path, JSON.stringify(config({ a: stdioServer('a', { FIXTURE_PID_FILE: pids, CHANGED: '1' }), c: stdioServer('c') })));
  await waitFor(
    async () => {
      const tools = await toolNames(gw.client);
      return tools.includes('c__echo') && !tools.includes('b__echo') && tools.includes('a__echo');
    },
    { what: 'the new set' },
  );
  await waitFor(() => readFileSync(pids, 'utf8').trim().split('\n').length === 2, { what: 'a restarted' });
  assert.notEqual(readFileSync(pids, 'utf8').trim().split('\n')[1], firstPid);
  await waitFor(() => /changed: added c; removed b; restarted a/.test(gw.stderr()), { what: 'the log line' });
  await waitFor(() => gw.notifications.slice(before).some((n) => n.method === 'notifications/tools/list_changed'), {
    what: 'list_changed',
  });

  writeFileSync(path, '{"mcpServers": {"a": ');
  await waitFor(() => /config not reloaded: .*invalid JSON.*; still serving the previous config/.test(gw.stderr()), {
    what: 'the rejection',
  });
  assert.deepEqual((await toolNames(gw.client)).filter((n) => n.endsWith('__echo')).sort(), ['a__echo', 'c__echo']);
  assert.equal(text(await gw.client.callTool({ name: 'c__echo', arguments: { text: 'still' } })), 'c:still');
});

test('an HTTP session the server forgets (404) is opened again transparently', async (t) => {
  const http = await startHttpMcpServer({ name: 'web', protocolTools: true });
  t.after(() => http.close());
  const gw = await gateway({ mcpServers: { web: { url: http.url } } });
  await ready(gw, 'web');
  assert.equal(text(await gw.client.callTool({ name: 'web__echo', arguments: { text: 'one' } })), 'web:one');
  http.sessions.clear(); // The server restarted, as far as sessions go.
  assert.equal(text(await gw.client.callTool({ name: 'web__echo', arguments: { text: 'two' } })), 'web:two');
  assert.equal((await gw.client.readResource({ uri: 'fixture://web/info' })).contents[0].text, 'info of web');
  assert.match(gw.stderr(), /\[web\] the server no longer knows this session \(HTTP 404\); opening a new one/);
});

test('calls in flight to one server are limited; past the limit a call fails at once with why', async () => {
  const callLog = join(tempDir(), 'calls');
  const gw = await gateway({ gateway: { maxCallsInFlight: 2 }, mcpServers: { a: stdioServer('a', { FIXTURE_CALL_LOG: callLog }) } });
  await ready(gw, 'a');
  const slow = [1, 2].map(() => gw.client.callTool({ name: 'a__sleep', arguments: { ms: 500 } }));
  await waitFor(() => existsSync(callLog) && readFileSync(callLog, 'utf8').split('\n').filter(Boolean).length === 2, {
    what: 'both calls at the server',
  });
  const third = await gw.client.callTool({ name: 'a__echo', arguments: { text: 'x' } });
  assert.equal(third.isError, true);
  assert.match(text(third), /Server "a" already has 2 calls in flight, the gateway's limit \(gateway\.maxCallsInFlight\)/);
  for (const result of await Promise.all(slow)) assert.equal(text(result), 'slept 500');
  assert.equal(text(await gw.client.callTool({ name: 'a__echo', arguments: { text: 'y' } })), 'a:y');
});

test('an HTTP server that goes away is reconnected with backoff once it is back; calls meanwhile wait up to the connect timeout, then fail saying why', async () => {
  let http = await startHttpMcpServer({ name: 'web' });
  const port = Number(new URL(http.url).port);
  const gw = await gateway(
    { mcpServers: { web: { url: http.url } }, gateway: { connectTimeout: 1500 } },
    { env: { MCP_GATEWAY_RECONNECT_BASE_MS: '300' } },
  );
  await ready(gw, 'web');
  await http.close();
  const down = await gw.client.callTool({ name: 'web__echo', arguments: { text: 'x' } });
  assert.equal(down.isError, true);
  assert.match(text(down), /cannot reach .*connection refused.*; the gateway is reconnecting it/);
  const meanwhile = await gw.client.callTool({ name: 'web__echo', arguments: { text: 'x' } });
  assert.match(text(meanwhile), /server "web" is not available \(reconnecting \(attempt \d/);
  await waitFor(() => /\[web\] warn: .*reconnecting in [\d.]+ s \(attempt 2\)/.test(gw.stderr()), {
    what: 'a second attempt',
    timeoutMs: 10_000,
  });
  http = await startHttpMcpServer({ name: 'web', port });
  try {
    await waitForState(gw, 'web', 'ready', { timeoutMs: 15_000 });
    assert.equal(text(await gw.client.callTool({ name: 'web__echo', arguments: { text: 'back' } })), 'web:back');
  } finally {
    await http.close();
  }
});

test('a server that keeps crashing soon after it starts is retried with growing delays, not in a loop', async () => {
  const gw = await gateway(
    { mcpServers: { flaky: stdioServer('flaky', { FIXTURE_EXIT_AFTER_MS: '400' }), steady: stdioServer('steady') } },
    { env: { MCP_GATEWAY_RECONNECT_BASE_MS: '200' } },
  );
  await waitFor(() => /\[flaky\] warn: .*reconnecting in [\d.]+ s \(attempt 3\)/.test(gw.stderr()), {
    what: 'the third attempt',
    timeoutMs: 15_000,
  });
  const delays = [...gw.stderr().matchAll(/\[flaky\] warn: .*reconnecting in ([\d.]+) s \(attempt (\d)\)/g)].map((m) => [
    Number(m[2]),
    Number(m[1]),
  ]);
  assert.deepEqual(delays.map(([attempt]) => attempt).slice(0, 3), [1, 2, 3]);
  assert.ok(delays[2][1] >= 0.4, `the third delay grew (${delays[2][1]} s)`);
  assert.equal(text(await gw.client.callTool({ name: 'steady__echo', arguments: { text: 'fine' } })), 'steady:fine');
});
