// Meta mode (list_servers, get_server_tools, search_tools, execute_tool), search ranking over
// 200 tools, and the per-agent access rules in both modes, with real stdio fixture servers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { QUERIES, toolCorpus } from './fixtures/search/toolCorpus.js';
import { trackedGateways, stdioServer, tempDir, toolNames, waitFor, writeConfig } from './helpers/gatewayProcess.js';

const gateway = trackedGateways();
const call = (gw, name, args) => gw.client.callTool({ name, arguments: args });
const data = (result) => JSON.parse(result.content[0].text);
const text = (result) => result.content.map((c) => c.text).join('');
async function untilReady(gw, names) {
  await waitFor(
    async () => {
      const { servers } = data(await call(gw, 'list_servers', {}));
      return names.every((name) => servers.find((s) => s.name === name)?.state === 'ready');
    },
    { what: names.join(', ') },
  );
}

test('meta mode: four tools; list_servers says what each server is for, its state and what to do; get_server_tools; execute_tool returns the result unchanged', async () => {
  const gw = await gateway({
    gateway: { mode: 'meta' },
    mcpServers: {
      a: { ...stdioServer('a'), description: 'Arithmetic and echoes' },
      broken: { command: 'no-such-command-for-meta' },
    },
  });
  assert.deepEqual(await toolNames(gw.client), ['execute_tool', 'get_server_tools', 'list_servers', 'search_tools']);
  await untilReady(gw, ['a']);
  await waitFor(async () => data(await call(gw, 'list_servers', {})).servers.find((s) => s.name === 'broken')?.state === 'failed', {
    what: 'broken failed',
  });
  const { servers } = data(await call(gw, 'list_servers', {}));
  assert.deepEqual(
    servers.find((s) => s.name === 'a'),
    { name: 'a', description: 'Arithmetic and echoes', state: 'ready', tool_count: 9 },
  );
  const broken = servers.find((s) => s.name === 'broken');
  assert.match(broken.what_to_do, /It failed \(command not found: no-such-command-for-meta.*gateway doctor/);

  const some = data(await call(gw, 'get_server_tools', { server: 'a', names: ['add', 'echo'] }));
  assert.deepEqual(some.tools.map((t) => t.name).sort(), ['add', 'echo']);
  assert.ok(some.tools[0].inputSchema);
  assert.equal(data(await call(gw, 'get_server_tools', { server: 'a', max: 3 })).tools.length, 3);

  const sum = await call(gw, 'execute_tool', { server: 'a', tool: 'add', args: { a: 2, b: 3 } });
  assert.deepEqual(sum.structuredContent, { sum: 5 });
  assert.equal(text(sum), '5');

  const unknownServer = await call(gw, 'execute_tool', { server: 'zzz', tool: 'add', args: {} });
  assert.equal(unknownServer.isError, true);
  assert.match(text(unknownServer), /There is no server "zzz" you may use \(servers: a, broken\)\. Call list_servers\./);
  const unknownTool = await call(gw, 'execute_tool', { server: 'a', tool: 'nope' });
  assert.match(text(unknownTool), /a has no tool "nope"; call get_server_tools with \{"server": "a"\}/);
  const notReady = await call(gw, 'execute_tool', { server: 'broken', tool: 'x' });
  assert.match(text(notReady), /broken is not ready: failed: command not found/);
  await assert.rejects(call(gw, 'a__echo', { text: 'direct' }), /Unknown tool: a__echo \(this gateway runs in meta mode/);
});

test('get_server_tools of a server that is not ready and has no tools: an error with its state and what to do', async () => {
  const gw = await gateway({
    gateway: { mode: 'meta', startupTimeout: 500 },
    mcpServers: {
      dies: stdioServer('dies', { FIXTURE_MODE: 'exit-at-start' }),
      slow: stdioServer('slow', { FIXTURE_MODE: 'hang-at-connect' }),
    },
  });
  await waitFor(async () => data(await call(gw, 'list_servers', {})).servers.find((s) => s.name === 'dies')?.state === 'failed', {
    what: 'dies failed',
  });
  const failed = await call(gw, 'get_server_tools', { server: 'dies' });
  assert.equal(failed.isError, true);
  assert.match(
    text(failed),
    /^dies is not ready: failed: process exited during start \(last stderr: fatal: fixture told to exit\)\. It failed .*`gateway doctor`\.$/,
  );
  const starting = await call(gw, 'get_server_tools', { server: 'slow', names: ['echo'] });
  assert.equal(starting.isError, true);
  assert.equal(text(starting), 'slow is not ready: connecting. It is starting; try again in a few seconds.');
});

test('search_tools ranks 200+ tools by BM25: the right tool is in the top 3 for every query (a substring filter is not)', async () => {
  const dir = tempDir();
  const servers = {};
  const corpus = toolCorpus();
  for (const [name, tools] of Object.entries(corpus)) {
    const file = join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify(tools));
    servers[name] = stdioServer(name, { FIXTURE_TOOLS_FILE: file });
  }
  const gw = await gateway({ gateway: { mode: 'meta' }, mcpServers: servers }, { args: ['--mode', 'meta'] });
  await untilReady(gw, Object.keys(corpus));
  const total = data(await call(gw, 'list_servers', {})).servers.reduce((sum, s) => sum + s.tool_count, 0);
  assert.equal(total, 290, "200 corpus tools plus the fixtures' own 9 each");
  const misses = [];
  for (const [query, server, tool] of QUERIES) {
    const { results } = data(await call(gw, 'search_tools', { query, max: 3 }));
    if (!results.some((r) => r.server === server && r.tool === tool))
      misses.push(`${query} → ${results.map((r) => `${r.server}.${r.tool}`).join(', ')}`);
  }
  assert.deepEqual(misses, []);
  const top = data(await call(gw, 'search_tools', { query: 'open a pull request to merge my branch', max: 1 })).results[0];
  assert.equal(`${top.server}.${top.tool}`, 'github.create_pull_request');
  assert.ok(top.inputSchema && top.description);
  // The bar is a real ranking: the first three tools that merely contain a query word miss most of them.
  const all = Object.entries(corpus).flatMap(([s, tools]) => tools.map((t) => ({ s, ...t })));
  const substringHits = QUERIES.filter(([query, server, tool]) => {
    const words = query
      .toLowerCase()
      .split(/\W+/)
      .filter((w) => w.length > 3);
    const first = all.filter((t) => words.some((w) => `${t.name} ${t.description}`.toLowerCase().includes(w))).slice(0, 3);
    return first.some((t) => t.s === server && t.name === tool);
  }).length;
  assert.ok(substringHits < QUERIES.length / 2, `substring order found ${substringHits}`);
  const none = data(await call(gw, 'search_tools', { query: 'zzzz qqqq' }));
  assert.deepEqual(none.results, []);
  assert.match(none.hint, /try other words/);
});

function rulesFixture() {
  const dir = tempDir();
  const callLog = join(dir, 'calls.log');
  const servers = {
    a: stdioServer('a', { FIXTURE_CALL_LOG: callLog }),
    b: stdioServer('b', { FIXTURE_CALL_LOG: callLog }),
    secret: stdioServer('secret', { FIXTURE_CALL_LOG: callLog }),
  };
  const rules = {
    defaults: { allow: [] },
    agents: {
      researcher: { allow: ['a', 'b.echo', 'b.add'], deny: ['a.env', 'a.c*'] },
      admin: { allow: ['*'] },
    },
  };
  writeFileSync(join(dir, '.mcp-gateway-rules.json'), JSON.stringify(rules));
  return {
    dir,
    callLog,
    servers,
    rulesPath: join(dir, '.mcp-gateway-rules.json'),
    calls: () => (existsSync(callLog) ? readFileSync(callLog, 'utf8').split('\n').filter(Boolean) : []),
  };
}

test('access rules in meta mode: agent_id picks the policy, deny beats allow, wildcards, defaults for unknown agents; a denied call never reaches the server', async () => {
  const f = rulesFixture();
  const gw = await gateway(writeConfig({ gateway: { mode: 'meta' }, mcpServers: f.servers }, f.dir));
  await waitFor(async () => data(await call(gw, 'list_servers', { agent_id: 'admin' })).servers.every((s) => s.state === 'ready'), {
    what: 'ready',
  });
  const list = async (agent) =>
    data(await call(gw, 'list_servers', agent ? { agent_id: agent } : {})).servers.map((s) => `${s.name}:${s.tool_count}`);
  assert.deepEqual(await list('researcher'), ['a:6', 'b:2']); // a without env, crash, cwd
  assert.deepEqual(await list('admin'), ['a:9', 'b:9', 'secret:9']);
  assert.deepEqual(await list('stranger'), [], 'unknown agents get the defaults: nothing');
  assert.deepEqual(await list(undefined), []);

  const denied = await call(gw, 'execute_tool', { agent_id: 'researcher', server: 'a', tool: 'env', args: { name: 'HOME' } });
  assert.equal(denied.isError, true);
  assert.match(text(denied), /You may not use a\.env \(agent "researcher"\); the gateway's access rules deny it/);
  const hidden = await call(gw, 'execute_tool', { agent_id: 'researcher', server: 'secret', tool: 'echo', args: { text: 'x' } });
  assert.match(text(hidden), /There is no server "secret" you may use \(servers: a, b\)/);
  assert.equal(text(await call(gw, 'execute_tool', { agent_id: 'researcher', server: 'b', tool: 'echo', args: { text: 'ok' } })), 'b:ok');
  const searched = data(await call(gw, 'search_tools', { agent_id: 'researcher', query: 'environment variable env', max: 20 })).results;
  assert.ok(!searched.some((r) => r.tool === 'env'), 'search shows only what the agent may use');
  assert.deepEqual(f.calls(), ['echo'], 'only the allowed call reached a server');
});

test('access rules in aggregate mode with --agent (and MCP_GATEWAY_AGENT); rules reload on edit, an invalid edit keeps them', async () => {
  const f = rulesFixture();
  const path = writeConfig({ mcpServers: f.servers }, f.dir);
  const gw = await gateway(path, { args: ['--agent', 'researcher'] });
  // The first list waits for every server to start (the startup gate), the hidden one too.
  assert.deepEqual(await toolNames(gw.client), [
    'a__add',
    'a__big',
    'a__echo',
    'a__fail',
    'a__progress',
    'a__sleep',
    'b__add',
    'b__echo',
    'gateway__status',
  ]);
  await assert.rejects(call(gw, 'a__env', { name: 'HOME' }), /Unknown tool: a__env/);
  await assert.rejects(call(gw, 'secret__echo', { text: 'x' }), /Unknown tool: secret__echo/);
  assert.deepEqual(f.calls(), [], 'denied calls never reached a server');
  // Prompts and resources need the whole server: researcher has only parts of a and b.
  assert.deepEqual((await gw.client.listPrompts()).prompts, []);
  assert.deepEqual((await gw.client.listResources()).resources, []);
  await assert.rejects(gw.client.readResource({ uri: 'fixture://secret/info' }), /Unknown resource/);
  await assert.rejects(gw.client.readResource({ uri: 'fixture://a/info' }), /Unknown resource/);

  const before = gw.notifications.length;
  writeFileSync(f.rulesPath, JSON.stringify({ agents: { researcher: { allow: ['secret.echo'] } } }));
  await waitFor(async () => (await toolNames(gw.client)).join() === 'gateway__status,secret__echo', { what: 'the new rules' });
  await waitFor(() => gw.notifications.slice(before).some((n) => n.method === 'notifications/tools/list_changed'), {
    what: 'list_changed',
  });
  assert.match(gw.stderr(), /access rules reloaded/);
  writeFileSync(f.rulesPath, '{"agents": {"researcher": {"allow": "not a list"}}}');
  await waitFor(
    () => /access rules not reloaded: .*agents\.researcher\.allow: must be a list.*the previous rules stay in force/.test(gw.stderr()),
    { what: 'the rejection' },
  );
  assert.deepEqual(await toolNames(gw.client), ['gateway__status', 'secret__echo']);
  await gw.close();

  writeFileSync(f.rulesPath, JSON.stringify({ agents: { admin: { allow: ['*'] } } }));
  const viaEnv = await gateway(path, { env: { MCP_GATEWAY_AGENT: 'admin' } });
  await waitFor(async () => (await toolNames(viaEnv.client)).filter((n) => n.endsWith('__env')).length === 3, {
    what: 'admin sees all three servers',
  });
  assert.deepEqual((await viaEnv.client.listPrompts()).prompts.map((p) => p.name).sort(), ['a__greet', 'b__greet', 'secret__greet']);
  assert.equal((await viaEnv.client.readResource({ uri: 'fixture://secret/info' })).contents[0].text, 'info of secret');
});

test('an invalid rules file at start is a clear error (exit 2), never a silent allow-all', async () => {
  const f = rulesFixture();
  writeFileSync(f.rulesPath, '{"agents": {"x": {"allow": ["a"], "bogus": 1}}}');
  const gw = await gateway(writeConfig({ mcpServers: f.servers }, f.dir), { connect: false });
  const exit = await gw.exited;
  assert.equal(exit.code, 2);
  assert.match(gw.stderr(), /\.mcp-gateway-rules\.json: agents\.x\.bogus: unknown field \(use "allow" and "deny"\)/);
});

test('a server.* deny hides the whole server: tools, prompts, resources; meta mode counts execute_tool against maxCallsInFlight', async () => {
  const f = rulesFixture();
  writeFileSync(f.rulesPath, JSON.stringify({ defaults: { allow: ['*'], deny: ['secret.*'] } }));
  const gw = await gateway(writeConfig({ mcpServers: f.servers }, f.dir));
  // The first list waits for every server to start (the startup gate), the hidden one too.
  const listed = await toolNames(gw.client);
  assert.ok(listed.includes('b__echo'));
  assert.ok(!listed.some((name) => name.startsWith('secret__')));
  assert.ok(!(await gw.client.listPrompts()).prompts.some((p) => p.name === 'secret__greet'));
  await assert.rejects(gw.client.readResource({ uri: 'fixture://secret/info' }), /Unknown resource/);
  assert.equal((await gw.client.readResource({ uri: 'fixture://a/info' })).contents[0].text, 'info of a');
  await gw.close();

  const meta = await gateway({
    gateway: { mode: 'meta', maxCallsInFlight: 1 },
    mcpServers: { a: stdioServer('a', { FIXTURE_CALL_LOG: f.callLog }) },
  });
  await untilReady(meta, ['a']);
  const slow = call(meta, 'execute_tool', { server: 'a', tool: 'sleep', args: { ms: 400 } });
  await waitFor(() => f.calls().includes('sleep'), { what: 'the slow call at the server' });
  const second = await call(meta, 'execute_tool', { server: 'a', tool: 'echo', args: { text: 'x' } });
  assert.equal(second.isError, true);
  assert.match(text(second), /a already has 1 calls in flight, the gateway's limit \(gateway\.maxCallsInFlight\)/);
  assert.equal(text(await slow), 'slept 400');
});
