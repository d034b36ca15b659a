// `gateway serve --http`: many clients over Streamable HTTP, one set of servers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateMessageRequestSchema, ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { runCli, stdioServer, tempDir, waitFor } from './helpers/gatewayProcess.js';
import { INITIALIZE, request, trackedHttpGateways } from './helpers/httpGateway.js';

const startHttpGateway = trackedHttpGateways();
const protocol = (name, env = {}) => stdioServer(name, { FIXTURE_PROTOCOL_TOOLS: '1', ...env });
const text = (result) => result.content.map((part) => part.text).join('');

/** A barrier: `arrive()` resolves once `count` arrivals have happened (or rejects after 10 s). */
function barrier(count) {
  let arrived = 0;
  let open;
  const opened = new Promise((resolve) => (open = resolve));
  return {
    arrive() {
      if (++arrived >= count) open();
      return Promise.race([
        opened,
        new Promise((_, reject) => setTimeout(() => reject(new Error(`only ${arrived} of ${count} arrived`)), 10_000)),
      ]);
    },
  };
}

/**
 * `count` clients with sampling, each answering with its own name once all `count` requests
 * of the round have arrived somewhere (so every call is in flight at once), called at once,
 * twice: while the server is still starting (the calls wait for it) and once it is ready.
 */
async function samplingRounds(gateway, count) {
  let round;
  const clients = [];
  for (let i = 0; i < count; i++) {
    const name = `client-${i}`;
    const client = await gateway.connect(name, { capabilities: { sampling: {} } });
    client.setRequestHandler(CreateMessageRequestSchema, async () => {
      round.asked.push(name);
      await round.all.arrive();
      return { role: 'assistant', model: 'test', content: { type: 'text', text: `from ${name}` } };
    });
    clients.push({ name, client });
  }
  for (const when of ['the server starting', 'the server ready']) {
    round = { all: barrier(count), asked: [] };
    const results = await Promise.all(
      clients.map(({ client, name }) => client.callTool({ name: 'one__ask_sampling', arguments: { prompt: name } })),
    );
    assert.deepEqual(round.asked.sort(), clients.map(({ name }) => name).sort(), `${when}: each client was asked exactly once`);
    assert.deepEqual(
      results.map(text),
      clients.map(({ name }) => `sampled: from ${name}`),
      when,
    );
  }
}

test('two clients calling at once: each sampling request goes to the client whose call caused it', async () => {
  await samplingRounds(await startHttpGateway({ mcpServers: { one: protocol('one') } }), 2);
});

test('ten clients calling at once: each sampling request goes to the client whose call caused it', async () => {
  await samplingRounds(await startHttpGateway({ mcpServers: { one: protocol('one') } }), 10);
});

test('a server\'s request goes only to a client that declared the capability; with none left, the server hears "method not found"', async () => {
  const gateway = await startHttpGateway({ mcpServers: { one: protocol('one') } });
  const asker = await gateway.connect('asker', { capabilities: { elicitation: {}, sampling: {} } });
  const plain = await gateway.connect('plain');
  asker.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { name: 'asker' } }));
  const result = await plain.callTool({ name: 'one__ask_elicitation', arguments: { message: 'who?' } });
  assert.equal(text(result), 'elicited: accept {"name":"asker"}', 'the one client that can answer did');
  await asker.httpTransport.terminateSession();
  await asker.close();
  const sampling = await plain.callTool({ name: 'one__ask_sampling', arguments: { prompt: 'x' } });
  assert.equal(sampling.isError, true);
  assert.match(text(sampling), /-32601.*no client connected to the gateway supports sampling/);
});

test('what each server is told is the union of what the clients connected when it started declared', async () => {
  const capsFile = join(tempDir(), 'caps');
  const gateway = await startHttpGateway({ mcpServers: { one: protocol('one', { FIXTURE_CAPS_FILE: capsFile }) } });
  // b opens its session (its initialize) but has not finished; a's finished initialize starts the server.
  const b = { ...INITIALIZE, params: { ...INITIALIZE.params, capabilities: { elicitation: { url: {} }, roots: { listChanged: true } } } };
  assert.equal((await request(gateway, '/mcp', { body: b })).status, 200);
  const a = await gateway.connect('a', { capabilities: { sampling: {}, elicitation: {} } });
  await a.listTools();
  const told = JSON.parse(readFileSync(capsFile, 'utf8').trim().split('\n')[0]);
  assert.deepEqual(told, { sampling: {}, elicitation: { form: {}, url: {} }, roots: { listChanged: true } });
});

test('a list change reaches every session; a log message only the sessions whose level wants it', async () => {
  const gateway = await startHttpGateway({ mcpServers: { one: protocol('one') } });
  const a = await gateway.connect('a');
  const b = await gateway.connect('b');
  await a.listTools();
  await b.listTools();
  await a.setLoggingLevel('error');
  await b.setLoggingLevel('debug');
  await a.callTool({ name: 'one__add_tool', arguments: { name: 'fresh' } });
  for (const client of [a, b]) {
    await waitFor(() => client.notifications.some((n) => n.method === 'notifications/tools/list_changed'), { what: 'list_changed' });
  }
  await a.callTool({ name: 'one__log', arguments: { level: 'info', text: 'for the verbose' } });
  await waitFor(() => b.notifications.some((n) => n.method === 'notifications/message' && n.params.data === 'for the verbose'), {
    what: 'the log message at b',
  });
  assert.ok(!a.notifications.some((n) => n.method === 'notifications/message'), 'a asked for errors only');
});

test('a session killed mid-call leaves the other sessions working; a session ended mid-call cancels its call at the server', async () => {
  const callLog = join(tempDir(), 'calls');
  const gateway = await startHttpGateway({ mcpServers: { one: protocol('one', { FIXTURE_CALL_LOG: callLog }) } });
  const survivor = await gateway.connect('survivor');
  // A client process killed while its call runs.
  const script = `
    import { Client } from '@modelcontextprotocol/sdk/client/index.js';
    import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
    const client = new Client({ name: 'doomed', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL('${gateway.url}'), { requestInit: { headers: { authorization: 'Bearer ${gateway.token}' } } }));
    await client.callTool({ name: 'one__sleep', arguments: { ms: 30000 } });`;
  const { spawn } = await import('node:child_process');
  const doomed = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: process.cwd(), stdio: 'ignore' });
  await waitFor(() => {
    try {
      return readFileSync(callLog, 'utf8').includes('sleep');
    } catch {
      return false;
    }
  });
  doomed.kill('SIGKILL');
  await new Promise((resolve) => doomed.once('exit', resolve));
  const echoes = await Promise.all([1, 2, 3].map((i) => survivor.callTool({ name: 'one__echo', arguments: { text: `after ${i}` } })));
  assert.deepEqual(echoes.map(text), ['one:after 1', 'one:after 2', 'one:after 3']);

  // A client that ends its session (DELETE) while its call runs: the server's call is cancelled.
  const leaver = await gateway.connect('leaver');
  const call = leaver.callTool({ name: 'one__sleep', arguments: { ms: 30000 } }).catch((error) => error);
  await waitFor(
    () =>
      readFileSync(callLog, 'utf8')
        .split('\n')
        .filter((line) => line === 'sleep').length === 2,
  );
  await leaver.httpTransport.terminateSession();
  await leaver.close();
  await call;
  await waitFor(() => /sleep cancelled: the client's session ended/.test(gateway.stderr()), { what: 'the cancellation at the server' });
  assert.equal(text(await survivor.callTool({ name: 'one__echo', arguments: { text: 'still' } })), 'one:still');
});

test('no token, a wrong token: 401 with WWW-Authenticate and nothing of what is behind', async () => {
  const gateway = await startHttpGateway({ mcpServers: { secretname: stdioServer('secretname') } });
  for (const [token, challenge] of [
    [null, /^Bearer realm="mcp-oauth-gateway"$/],
    ['not-the-token', /^Bearer realm="mcp-oauth-gateway", error="invalid_token"$/],
  ]) {
    const response = await request(gateway, '/mcp', { token, body: INITIALIZE });
    assert.equal(response.status, 401);
    assert.match(response.headers['www-authenticate'], challenge);
    const body = await response.text();
    assert.doesNotMatch(body, /secretname|mcp-oauth-gateway|tools/);
  }
  const status = await request(gateway, '/status', { method: 'GET', token: 'x' });
  assert.equal(status.status, 401, '/status needs the token too');
  assert.equal((await request(gateway, '/mcp', { body: INITIALIZE })).status, 200, 'with the token it answers');
});

test('a foreign Origin or a rebound Host is refused with 403, even with the token; an allowed Origin gets CORS headers', async () => {
  const gateway = await startHttpGateway({
    mcpServers: { one: stdioServer('one') },
    gateway: { http: { allowedOrigins: ['https://app.example.com'] } },
  });
  const foreign = await request(gateway, '/mcp', { body: INITIALIZE, headers: { origin: 'https://evil.example' } });
  assert.equal(foreign.status, 403);
  const rebound = await request(gateway, '/mcp', { body: INITIALIZE, headers: { host: `evil.example:${new URL(gateway.url).port}` } });
  assert.equal(rebound.status, 403, 'a Host naming another site on a loopback listener');
  const own = await request(gateway, '/mcp', { body: INITIALIZE, headers: { origin: gateway.origin } });
  assert.equal(own.status, 200, "the listener's own origin");
  const allowed = await request(gateway, '/mcp', { body: INITIALIZE, headers: { origin: 'https://app.example.com' } });
  assert.equal(allowed.status, 200);
  assert.equal(allowed.headers['access-control-allow-origin'], 'https://app.example.com');
  const preflight = await request(gateway, '/mcp', { method: 'OPTIONS', token: null, headers: { origin: 'https://app.example.com' } });
  assert.equal(preflight.status, 204);
  assert.match(preflight.headers['access-control-allow-headers'], /authorization/);
  assert.match(preflight.headers['access-control-expose-headers'], /mcp-session-id/);
});

test('gateway http-token prints the token (0600 in a 0700 directory); --rotate replaces it for a gateway already serving', async () => {
  const home = tempDir('gw-home-');
  const printed = await runCli(['http-token'], { env: { MCP_GATEWAY_HOME: home } });
  assert.equal(printed.status, 0);
  const token = printed.stdout.trim();
  assert.match(token, /^[A-Za-z0-9_-]{43}$/);
  const { statSync } = await import('node:fs');
  assert.equal(statSync(join(home, 'http-token')).mode & 0o777, 0o600);
  assert.equal(statSync(home).mode & 0o777, 0o700);
  const gateway = await startHttpGateway({ mcpServers: { one: stdioServer('one') } }, { home });
  assert.equal(gateway.token, token, 'the gateway uses the token printed');
  const rotated = await runCli(['http-token', '--rotate'], { env: { MCP_GATEWAY_HOME: home } });
  const fresh = rotated.stdout.trim();
  assert.notEqual(fresh, token);
  await waitFor(async () => (await request(gateway, '/mcp', { body: INITIALIZE, token })).status === 401, {
    what: 'the old token refused',
  });
  assert.equal((await request(gateway, '/mcp', { body: INITIALIZE, token: fresh })).status, 200);
});

test('gateway__status and gateway list show the client sessions', async () => {
  const home = tempDir('gw-home-');
  const gateway = await startHttpGateway({ mcpServers: { one: stdioServer('one') } }, { home });
  const a = await gateway.connect('alpha-client');
  await gateway.connect('beta-client');
  const status = await a.callTool({ name: 'gateway__status', arguments: {} });
  const clients = status.structuredContent.sessions.map((session) => session.client).sort();
  assert.deepEqual(clients, ['alpha-client 1.0.0', 'beta-client 1.0.0']);
  assert.equal(status.structuredContent.sessions[0].from, '127.0.0.1');
  const listed = await runCli(['list', '--config', gateway.configPath], { env: { MCP_GATEWAY_HOME: home } });
  assert.match(listed.stdout, new RegExp(`Serving over HTTP at ${gateway.url} \\(pid ${gateway.child.pid}\\): 2 sessions`));
  assert.match(listed.stdout, /alpha-client 1\.0\.0\s+from 127\.0\.0\.1/);
  const json = JSON.parse((await runCli(['list', '--json', '--config', gateway.configPath], { env: { MCP_GATEWAY_HOME: home } })).stdout);
  assert.equal(json.http[0].sessions.length, 2);
});

test('a stream that broke is resumed with Last-Event-ID: the answer the client missed is replayed', async () => {
  const gateway = await startHttpGateway({ mcpServers: { one: stdioServer('one') } });
  const opened = await request(gateway, '/mcp', { body: INITIALIZE });
  const session = opened.headers['mcp-session-id'];
  await opened.text();
  const headers = { 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' };
  await request(gateway, '/mcp', { headers, body: { jsonrpc: '2.0', method: 'notifications/initialized' } });
  // The call's stream is dropped after its first event (the priming one, with an id), before the answer.
  const controller = new AbortController();
  const call = { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'one__sleep', arguments: { ms: 300 } } };
  const response = await fetch(gateway.url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${gateway.token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...headers,
    },
    body: JSON.stringify(call),
    signal: controller.signal,
  });
  const reader = response.body.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  const eventId = /^id: ?(\S+)/m.exec(first)?.[1];
  assert.ok(eventId, `a priming event with an id: ${first}`);
  controller.abort();
  await new Promise((resolve) => setTimeout(resolve, 600));
  const resumed = await request(gateway, '/mcp', { method: 'GET', headers: { ...headers, 'last-event-id': eventId } });
  assert.equal(resumed.status, 200);
  let seen = '';
  for await (const chunk of resumed.body) {
    seen += chunk;
    if (seen.includes('slept 300')) break;
  }
  assert.match(seen, /"id":7/);
  resumed.body.destroy();
});

test('gateway.http is checked: a bad listen address, origin or field is named', async () => {
  for (const [http, message] of [
    [{ listen: 'localhost:99999' }, /gateway\.http\.listen: must be \[HOST:\]PORT/],
    [{ allowedOrigins: ['https://app.example.com/path'] }, /gateway\.http\.allowedOrigins\[0\]: must be an origin/],
    [{ trustProxy: 'yes' }, /gateway\.http\.trustProxy: must be true or false/],
  ]) {
    const dir = tempDir();
    writeFileSync(join(dir, '.mcp.json'), JSON.stringify({ mcpServers: {}, gateway: { http } }));
    const result = await runCli(['serve', '--http', '0', '--config', join(dir, '.mcp.json')]);
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, message);
  }
  const dir = tempDir();
  writeFileSync(join(dir, '.mcp.json'), JSON.stringify({ mcpServers: {} }));
  const bad = await runCli(['serve', '--http', 'nowhere:x', '--config', join(dir, '.mcp.json')]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--http nowhere:x: not \[HOST:\]PORT/);
});
