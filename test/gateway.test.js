// The gateway end to end: real stdio and HTTP fixture servers behind `gateway serve`,
// driven by the SDK's Client over stdio as Claude Desktop would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startHttpMcpServer } from './fixtures/http-server.js';
import {
  trackedGateways,
  stdioServer,
  tempDir,
  toolNames,
  waitFor,
  isAlive,
  serverStatus,
  waitForState,
} from './helpers/gatewayProcess.js';

const gateway = trackedGateways();

function text(result) {
  return result.content.map((c) => c.text).join('');
}

test('aggregates three servers (stdio, Streamable HTTP, SSE) and routes each call to its owner', async (t) => {
  const streamable = await startHttpMcpServer({ mode: 'streamable', name: 'web' });
  const legacy = await startHttpMcpServer({ mode: 'sse-only', name: 'old' });
  t.after(() => Promise.all([streamable.close(), legacy.close()]));
  const gw = await gateway({
    mcpServers: {
      local: stdioServer('local'),
      web: { url: streamable.url },
      old: { url: legacy.url },
    },
  });
  const names = await waitFor(
    async () => {
      const list = await toolNames(gw.client);
      return ['local__echo', 'web__echo', 'old__echo'].every((n) => list.includes(n)) && list;
    },
    { what: 'all three servers' },
  );
  assert.ok(names.includes('local__add') && names.includes('web__add'));
  // The same tool name on several servers stays distinct, and each call reaches its owner.
  assert.equal(text(await gw.client.callTool({ name: 'local__echo', arguments: { text: 'a' } })), 'local:a');
  assert.equal(text(await gw.client.callTool({ name: 'web__echo', arguments: { text: 'b' } })), 'web:b');
  assert.equal(text(await gw.client.callTool({ name: 'old__echo', arguments: { text: 'c' } })), 'old:c');
  // `old` answered 4xx to Streamable HTTP, so the gateway fell back to SSE.
  assert.ok(
    legacy.requests.some((r) => r.method === 'GET'),
    'SSE stream opened',
  );
});

test('keeps description, schemas and annotations; passes structuredContent and isError through unchanged', async () => {
  const gw = await gateway({ mcpServers: { a: stdioServer('a') } });
  await waitFor(async () => (await toolNames(gw.client)).includes('a__add'), { what: 'a ready' });
  const { tools } = await gw.client.listTools();
  const echo = tools.find((t) => t.name === 'a__echo');
  assert.equal(echo.description, 'Echo text back');
  assert.deepEqual(echo.annotations, { readOnlyHint: true });
  assert.equal(echo.inputSchema.properties.text.type, 'string');
  const add = tools.find((t) => t.name === 'a__add');
  assert.equal(add.outputSchema.properties.sum.type, 'number');
  const sum = await gw.client.callTool({ name: 'a__add', arguments: { a: 2, b: 3 } });
  assert.deepEqual(sum.structuredContent, { sum: 5 });
  const failed = await gw.client.callTool({ name: 'a__fail', arguments: {} });
  assert.equal(failed.isError, true);
  assert.equal(text(failed), 'fixture failure');
});

test('an unknown tool is a protocol error naming it', async () => {
  const gw = await gateway({ mcpServers: { a: stdioServer('a') } });
  await assert.rejects(gw.client.callTool({ name: 'nope__echo', arguments: {} }), (error) => {
    assert.equal(error.code, -32602);
    assert.match(error.message, /Unknown tool: nope__echo/);
    return true;
  });
});

test('a server that crashes mid-call fails that call, naming the server; the others keep serving; it is reconnected', async () => {
  const gw = await gateway(
    { mcpServers: { crashy: stdioServer('crashy'), steady: stdioServer('steady') } },
    { env: { MCP_GATEWAY_RECONNECT_BASE_MS: '1500' } },
  );
  await waitFor(
    async () => (await toolNames(gw.client)).includes('steady__echo') && (await toolNames(gw.client)).includes('crashy__crash'),
    { what: 'both ready' },
  );
  const result = await gw.client.callTool({ name: 'crashy__crash', arguments: {} });
  assert.equal(result.isError, true);
  assert.match(text(result), /Server "crashy" could not complete crash: the server disconnected during the call/);
  assert.equal(text(await gw.client.callTool({ name: 'steady__echo', arguments: { text: 'still here' } })), 'steady:still here');
  // While it reconnects, its tools stay listed and a call waits for it.
  assert.ok((await toolNames(gw.client)).includes('crashy__echo'));
  const reconnecting = await serverStatus(gw.client, 'crashy');
  assert.equal(reconnecting.state, 'reconnecting');
  assert.match(reconnecting.what_to_do, /reconnecting it \(process exited/);
  assert.equal(text(await gw.client.callTool({ name: 'crashy__echo', arguments: { text: 'back' } })), 'crashy:back');
  const back = await serverStatus(gw.client, 'crashy');
  assert.deepEqual([back.state, back.tool_count], ['ready', 9]);
});

test('a call to a server that is reconnecting fails, saying why, once the server has not come back within its connect timeout', async () => {
  // Its next attempt is 10–20 s away: further than the 3 s a call waits.
  const gw = await gateway(
    { mcpServers: { crashy: stdioServer('crashy') }, gateway: { connectTimeout: 3000 } },
    { env: { MCP_GATEWAY_RECONNECT_BASE_MS: '20000' } },
  );
  assert.ok((await toolNames(gw.client)).includes('crashy__crash'));
  await gw.client.callTool({ name: 'crashy__crash', arguments: {} });
  const meanwhile = await gw.client.callTool({ name: 'crashy__echo', arguments: { text: 'x' } });
  assert.equal(meanwhile.isError, true);
  assert.match(text(meanwhile), /server "crashy" is not available \(reconnecting \(attempt 1, next in \d+ s\): process exited/);
});

test('a server that hangs at connect or exits at start delays and breaks nothing else', async () => {
  const started = Date.now();
  const gw = await gateway({
    mcpServers: {
      hangs: stdioServer('hangs', { FIXTURE_MODE: 'hang-at-connect' }),
      dies: stdioServer('dies', { FIXTURE_MODE: 'exit-at-start' }),
      missing: { command: 'no-such-command-for-the-gateway-test' },
      good: stdioServer('good'),
    },
    gateway: { connectTimeout: 3000 },
  });
  const initializedAfter = Date.now() - started;
  assert.ok(initializedAfter < 1500, `initialize waited (${initializedAfter} ms)`);
  // The first list waits for the hanging server no longer than the connect timeout, and holds the good one's tools.
  assert.ok((await toolNames(gw.client)).includes('good__echo'));
  assert.ok(Date.now() - started < 8000, `the first list took ${Date.now() - started} ms`);
  assert.equal(text(await gw.client.callTool({ name: 'good__echo', arguments: { text: 'x' } })), 'good:x');
  await waitForState(gw, 'hangs', 'failed');
  assert.deepEqual(
    (await toolNames(gw.client)).filter((n) => !n.startsWith('good__')),
    ['gateway__status'],
  );
  // The model can see who failed and why.
  const status = (await gw.client.callTool({ name: 'gateway__status', arguments: {} })).structuredContent.servers;
  assert.deepEqual(
    status.map((s) => `${s.name}:${s.state}`),
    ['hangs:failed', 'dies:failed', 'missing:failed', 'good:ready'],
  );
  assert.match(status[0].what_to_do, /It failed \(did not finish connecting within 3000 ms/);
  assert.match(status[1].what_to_do, /It failed \(process exited during start \(last stderr: fatal: fixture told to exit\)/);
  assert.match(status[2].what_to_do, /It failed \(command not found: no-such-command-for-the-gateway-test/);
  // And the log says it as a warning, once per server.
  assert.equal(gw.stderr().match(/\[(?:hangs|dies|missing)\] warn: failed: /g)?.length, 3, gw.stderr());
});

test('a downstream JSON-RPC error and a call timeout reach the client naming the server', async () => {
  const gw = await gateway({ mcpServers: { slow: { ...stdioServer('slow'), timeout: 300 } } });
  await waitFor(async () => (await toolNames(gw.client)).includes('slow__sleep'), { what: 'slow ready' });
  const timedOut = await gw.client.callTool({ name: 'slow__sleep', arguments: { ms: 2000 } });
  assert.equal(timedOut.isError, true);
  assert.match(text(timedOut), /Server "slow" could not complete sleep: timed out after 300 ms/);
  // Other calls on the same server are unaffected.
  assert.equal(text(await gw.client.callTool({ name: 'slow__echo', arguments: { text: 'ok' } })), 'slow:ok');
});

test('server env is laid over the inherited environment; ${VAR} is expanded; cwd is applied', async () => {
  const dir = tempDir();
  const gw = await gateway(
    { mcpServers: { e: { ...stdioServer('e', { GREETING: 'hello ${WHO}', OVERRIDE: 'from-config' }), cwd: dir } } },
    { env: { WHO: 'world', INHERITED_MARK: 'inherited', OVERRIDE: 'from-parent' } },
  );
  await waitFor(async () => (await toolNames(gw.client)).includes('e__env'), { what: 'e ready' });
  const env = async (name) => text(await gw.client.callTool({ name: 'e__env', arguments: { name } }));
  assert.equal(await env('GREETING'), 'hello world');
  assert.equal(await env('INHERITED_MARK'), 'inherited');
  assert.equal(await env('OVERRIDE'), 'from-config');
  assert.equal(text(await gw.client.callTool({ name: 'e__cwd', arguments: {} })), dir);
});

test("each child's stderr goes to the gateway log under its name, never to stdout", async () => {
  const gw = await gateway({ mcpServers: { chatty: stdioServer('chatty', { FIXTURE_STDERR_LINES: '3' }) } });
  await waitFor(() => /\[chatty\] hello from stderr 2/.test(gw.stderr()), { what: 'stderr lines' });
  assert.match(gw.stderr(), /\[chatty\] hello from stderr 0\n/);
});

test('initialize is answered before a slow server is ready; the first tools/list waits for its tools', async () => {
  const started = Date.now();
  const gw = await gateway({ mcpServers: { later: stdioServer('later', { FIXTURE_START_DELAY_MS: '2000' }) } });
  assert.ok(Date.now() - started < 2000, `initialize took ${Date.now() - started} ms`);
  assert.ok((await toolNames(gw.client)).includes('later__echo'));
  assert.ok(!gw.notifications.some((n) => n.method === 'notifications/tools/list_changed'), 'no list_changed: the first list was complete');
});

for (const how of ['stdin closed', 'SIGTERM', 'SIGINT']) {
  test(`no child is left behind when the gateway is stopped (${how})`, async () => {
    const dir = tempDir();
    const pidFile = join(dir, 'pids');
    const gw = await gateway({
      mcpServers: {
        a: stdioServer('a', { FIXTURE_PID_FILE: pidFile }),
        b: stdioServer('b', { FIXTURE_PID_FILE: pidFile }),
        stubborn: stdioServer('stubborn', { FIXTURE_PID_FILE: pidFile, FIXTURE_MODE: 'ignore-stdin-close' }),
      },
    });
    await waitFor(
      async () => {
        const names = await toolNames(gw.client);
        return ['a__echo', 'b__echo', 'stubborn__echo'].every((n) => names.includes(n));
      },
      { what: 'all ready' },
    );
    const pids = readFileSync(pidFile, 'utf8').trim().split('\n').map(Number);
    assert.equal(pids.length, 3);
    assert.ok(pids.every(isAlive));
    if (how === 'stdin closed') gw.child.stdin.end();
    else gw.child.kill(how);
    const { code } = await gw.exited;
    assert.equal(code, 0);
    await waitFor(() => pids.every((pid) => !isAlive(pid)), { what: 'children gone', timeoutMs: 8000 });
  });
}

test('every line the gateway writes to stdout is JSON-RPC 2.0', async (t) => {
  const web = await startHttpMcpServer({ mode: 'streamable', name: 'web' });
  t.after(() => web.close());
  const gw = await gateway({
    mcpServers: {
      chatty: stdioServer('chatty', { FIXTURE_STDERR_LINES: '5' }),
      dies: stdioServer('dies', { FIXTURE_MODE: 'exit-at-start' }),
      web: { url: web.url },
      down: { url: 'http://127.0.0.1:9/mcp' },
      weird: { command: 'x', unknownField: true },
    },
    gateway: { logLevel: 'debug' },
  });
  await waitFor(async () => (await toolNames(gw.client)).includes('web__echo') && (await toolNames(gw.client)).includes('chatty__echo'), {
    what: 'ready',
  });
  await gw.client.callTool({ name: 'chatty__echo', arguments: { text: 'x' } });
  await gw.client.callTool({ name: 'chatty__fail', arguments: {} });
  await assert.rejects(gw.client.callTool({ name: 'missing__tool', arguments: {} }));
  await gw.close();
  assert.ok(gw.transport.rawLines.length > 3);
  for (const line of gw.transport.rawLines) {
    const message = JSON.parse(line);
    assert.equal(message.jsonrpc, '2.0', line);
  }
  assert.ok(gw.stderr().includes('unknown field'));
});

test('headers from the config are sent on every HTTP request', async (t) => {
  const web = await startHttpMcpServer({ mode: 'streamable', name: 'web', requiredHeaders: { 'x-api-key': 'k-123' } });
  t.after(() => web.close());
  const gw = await gateway({ mcpServers: { web: { url: web.url, headers: { 'X-Api-Key': '${KEY}' } } } }, { env: { KEY: 'k-123' } });
  await waitFor(async () => (await toolNames(gw.client)).includes('web__echo'), { what: 'web ready' });
  await gw.client.callTool({ name: 'web__echo', arguments: { text: 'x' } });
  assert.ok(web.requests.length >= 3);
  assert.ok(web.requests.every((r) => r.headers['x-api-key'] === 'k-123'));
});

test('thousands of calls over one Streamable HTTP connection raise no MaxListenersExceededWarning', async (t) => {
  const web = await startHttpMcpServer({ mode: 'streamable', name: 'web' });
  t.after(() => web.close());
  const gw = await gateway({ mcpServers: { web: { url: web.url } } });
  await waitFor(async () => (await toolNames(gw.client)).includes('web__echo'), { what: 'web ready' });
  // undici warns past 1500 listeners on one signal; without the gateway's per-request
  // signals, listeners pile up until a garbage collection and this count trips it.
  for (let batch = 0; batch < 40; batch++) {
    await Promise.all(Array.from({ length: 100 }, (_, i) => gw.client.callTool({ name: 'web__echo', arguments: { text: String(i) } })));
  }
  assert.doesNotMatch(gw.stderr(), /MaxListenersExceeded/);
});

test("progress reaches the caller's request and resets the call timeout", async () => {
  const gw = await gateway({ mcpServers: { p: { ...stdioServer('p'), timeout: 400 } } });
  await waitFor(async () => (await toolNames(gw.client)).includes('p__progress'), { what: 'p ready' });
  await assertProgressRelayed(gw, 'p__progress');
});

/**
 * Calls a `progress` tool for 5 steps 200 ms apart: 1 s in all, longer than the server's
 * 400 ms timeout, but never 400 ms without progress. The gateway must send every update, in
 * order, before the result, and they must reach the caller's handler. (The SDK client handles
 * notifications a microtask later than responses, so the last one may race the result it precedes.)
 */
async function assertProgressRelayed(gw, name) {
  const updates = [];
  const firstLine = gw.transport.rawLines.length;
  const result = await gw.client.callTool({ name, arguments: { steps: 5, ms: 200 } }, undefined, {
    onprogress: (progress) => updates.push(progress.progress),
    timeout: 10_000,
  });
  assert.equal(text(result), 'done 5');
  const sent = gw.transport.rawLines
    .slice(firstLine)
    .map((line) => JSON.parse(line))
    .filter((m) => !/list_changed$/.test(m.method ?? ''));
  assert.deepEqual(
    sent.map((m) => m.params?.progress ?? 'result'),
    [1, 2, 3, 4, 5, 'result'],
  );
  assert.deepEqual(updates.slice(0, 4), [1, 2, 3, 4]);
}

test("the client's cancellation reaches the downstream request", async () => {
  const gw = await gateway({ mcpServers: { c: stdioServer('c') } });
  await waitFor(async () => (await toolNames(gw.client)).includes('c__sleep'), { what: 'c ready' });
  const controller = new AbortController();
  const call = gw.client.callTool({ name: 'c__sleep', arguments: { ms: 10_000 } }, undefined, { signal: controller.signal });
  setTimeout(() => controller.abort('user pressed stop'), 200);
  await assert.rejects(call);
  await waitFor(() => /\[c\] sleep cancelled: user pressed stop/.test(gw.stderr()), { what: 'downstream cancellation' });
  // The server is still usable afterwards.
  assert.equal(text(await gw.client.callTool({ name: 'c__echo', arguments: { text: 'after' } })), 'c:after');
});

/** What this process writes to stderr from now on (an in-process HTTP fixture's tools write there). */
function capturedStderr(t) {
  const lines = [];
  const write = process.stderr.write;
  process.stderr.write = function (chunk, ...rest) {
    lines.push(String(chunk));
    return write.call(this, chunk, ...rest);
  };
  t.after(() => (process.stderr.write = write));
  return lines;
}

test("a relayed call to a Streamable HTTP server (SSE answers): progress reaches the caller in order and resets the timeout, a 1 MiB result arrives whole, the client's cancellation reaches the server", async (t) => {
  const web = await startHttpMcpServer({ mode: 'streamable', name: 'web' });
  t.after(() => web.close());
  const gw = await gateway({ mcpServers: { web: { url: web.url, timeout: 400 } } });
  await waitFor(async () => (await toolNames(gw.client)).includes('web__progress'), { what: 'web ready' });
  await assertProgressRelayed(gw, 'web__progress');

  const big = await gw.client.callTool({ name: 'web__big', arguments: { bytes: 1024 * 1024 } });
  assert.equal(big.content[0].text, 'x'.repeat(1024 * 1024));

  const stderr = capturedStderr(t);
  const controller = new AbortController();
  const call = gw.client.callTool({ name: 'web__sleep', arguments: { ms: 300 } }, undefined, { signal: controller.signal });
  setTimeout(() => controller.abort('user pressed stop'), 100);
  await assert.rejects(call);
  await waitFor(() => stderr.some((line) => line.includes('sleep cancelled: user pressed stop')), { what: 'the server told' });
  assert.equal(text(await gw.client.callTool({ name: 'web__echo', arguments: { text: 'after' } })), 'web:after');
});

test('a Streamable HTTP server that answers with JSON instead of an SSE stream: relayed calls are answered, each to its caller', async (t) => {
  const web = await startHttpMcpServer({ mode: 'streamable', name: 'web', jsonResponse: true });
  t.after(() => web.close());
  const gw = await gateway({ mcpServers: { web: { url: web.url } } });
  await waitFor(async () => (await toolNames(gw.client)).includes('web__echo'), { what: 'web ready' });
  const calls = Array.from({ length: 50 }, (_, i) =>
    gw.client.callTool({ name: 'web__echo', arguments: { text: String(i) } }).then((r) => [i, text(r)]),
  );
  for (const [i, got] of await Promise.all(calls)) assert.equal(got, `web:${i}`);
  const big = await gw.client.callTool({ name: 'web__big', arguments: { bytes: 1024 * 1024 } });
  assert.equal(big.content[0].text, 'x'.repeat(1024 * 1024));
  const failed = await gw.client.callTool({ name: 'web__fail', arguments: {} });
  assert.deepEqual([failed.isError, text(failed)], [true, 'fixture failure']);
});

test('a 1 MiB result and many calls in flight come back intact and to the right caller', async () => {
  const gw = await gateway({ mcpServers: { a: stdioServer('a'), b: stdioServer('b') } });
  await waitFor(async () => (await toolNames(gw.client)).includes('a__big') && (await toolNames(gw.client)).includes('b__echo'), {
    what: 'ready',
  });
  const big = await gw.client.callTool({ name: 'a__big', arguments: { bytes: 1024 * 1024 } });
  assert.equal(big.content[0].text, 'x'.repeat(1024 * 1024));
  const calls = Array.from({ length: 200 }, (_, i) =>
    gw.client.callTool({ name: `${i % 2 ? 'a' : 'b'}__echo`, arguments: { text: String(i) } }).then((r) => [i, text(r)]),
  );
  for (const [i, got] of await Promise.all(calls)) assert.equal(got, `${i % 2 ? 'a' : 'b'}:${i}`);
});
