// `serve --server NAME`: one configured server exposed as itself, checked against a direct connection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CreateMessageRequestSchema, ElicitRequestSchema, ListRootsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { runCli, STDIO_FIXTURE, stdioServer, tempDir, trackedGateways, writeConfig } from './helpers/gatewayProcess.js';
import { trackedHttpGateways } from './helpers/httpGateway.js';

const startGateway = trackedGateways();
const startHttpGateway = trackedHttpGateways();

const FIXTURE_ENV = { FIXTURE_NAME: 'one', FIXTURE_PROTOCOL_TOOLS: '1', FIXTURE_INSTRUCTIONS: 'Use echo to repeat things.' };
const CAPABILITIES = { capabilities: { sampling: {}, elicitation: {}, roots: {} } };

/** A client that answers the server's own requests the same way wherever it is connected. */
function answering(client) {
  client.setRequestHandler(CreateMessageRequestSchema, async () => ({
    role: 'assistant',
    model: 'm',
    content: { type: 'text', text: 'sampled' },
  }));
  client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { name: 'me' } }));
  client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: [{ uri: 'file:///tmp/root' }] }));
  return client;
}

/** What a client connected straight to the fixture sees (the fixture ended after). */
async function direct() {
  const client = answering(new Client({ name: 'direct', version: '1.0.0' }, CAPABILITIES));
  await client.connect(
    new StdioClientTransport({ command: process.execPath, args: [STDIO_FIXTURE], env: { ...process.env, ...FIXTURE_ENV } }),
  );
  try {
    return await observe(client);
  } finally {
    await client.close();
  }
}

/** Arguments for each fixture tool (those that end or change the server are left out, with why). */
const ARGUMENTS = {
  echo: { text: 'hello' },
  add: { a: 2, b: 40 },
  fail: {},
  sleep: { ms: 5 },
  progress: { steps: 2, ms: 1 },
  big: { bytes: 70000 },
  env: { name: 'FIXTURE_NAME' },
  calls: {},
  log: { level: 'info', text: 'logged' },
  touch: { uri: 'fixture://one/info' },
  ask_sampling: { prompt: 'p' },
  ask_elicitation: { message: 'who?' },
  ask_roots: {},
};
const LEFT_OUT = { crash: 'ends the server', add_tool: 'changes the tool list', cwd: 'the working directory differs by design' };

/** Everything a client sees of the server, and every tool's answer, in one comparable value. */
async function observe(client) {
  const { tools } = await client.listTools();
  const calls = {};
  for (const tool of tools) {
    if (LEFT_OUT[tool.name]) continue;
    assert.ok(ARGUMENTS[tool.name], `arguments for ${tool.name}`);
    calls[tool.name] = await client.callTool({ name: tool.name, arguments: ARGUMENTS[tool.name] });
  }
  return {
    serverInfo: client.getServerVersion(),
    capabilities: client.getServerCapabilities(),
    instructions: client.getInstructions(),
    tools,
    prompts: (await client.listPrompts()).prompts,
    prompt: await client.getPrompt({ name: 'greet', arguments: { who: 'bob' } }),
    resources: (await client.listResources()).resources,
    templates: (await client.listResourceTemplates()).resourceTemplates,
    read: await client.readResource({ uri: 'fixture://one/info' }),
    completion: await client.complete({ ref: { type: 'ref/prompt', name: 'greet' }, argument: { name: 'who', value: 'al' } }),
    calls,
  };
}

test("serve --server over stdio: the server as itself — names, capabilities, instructions, lists and every tool's answer as a direct connection sees them", async () => {
  const expected = await direct();
  const gateway = await startGateway(
    { mcpServers: { one: stdioServer('one', FIXTURE_ENV), other: stdioServer('other') } },
    {
      args: ['--server', 'one'],
      clientOptions: CAPABILITIES,
      connect: false,
    },
  );
  await answering(gateway.client).connect(gateway.transport);
  const seen = await observe(gateway.client);
  for (const key of Object.keys(expected)) assert.deepEqual(seen[key], expected[key], key);
  assert.ok(!seen.tools.some((tool) => tool.name.includes('__')), 'no prefixed names, no gateway__status');
  assert.doesNotMatch(gateway.stderr(), /\[other\]/, 'the other server is not started');
});

test('serve --http --server: every session sees the server as itself', async () => {
  const expected = await direct();
  const gateway = await startHttpGateway({ mcpServers: { one: stdioServer('one', FIXTURE_ENV) } }, { args: ['--server', 'one'] });
  const [first, second] = await Promise.all([gateway.connect('a', CAPABILITIES), gateway.connect('b', CAPABILITIES)]);
  for (const client of [first, second]) {
    answering(client);
    const seen = await observe(client);
    for (const key of ['serverInfo', 'capabilities', 'instructions', 'tools', 'prompts', 'resources', 'templates', 'read']) {
      assert.deepEqual(seen[key], expected[key], key);
    }
    for (const name of ['echo', 'add', 'fail', 'big', 'ask_sampling', 'ask_elicitation', 'ask_roots'])
      assert.deepEqual(seen.calls[name], expected.calls[name], name);
  }
});

test('serve --server with a name the config lacks (or has disabled) says so and which servers there are', async () => {
  const config = writeConfig({ mcpServers: { one: stdioServer('one'), off: { ...stdioServer('off'), disabled: true } } }, tempDir());
  const missing = await runCli(['serve', '--server', 'nope', '--config', config]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /--server nope: no such server in .*\.mcp\.json \(its servers: one\)/);
  const disabled = await runCli(['serve', '--server', 'off', '--config', config]);
  assert.match(disabled.stderr, /--server off: that server is disabled/);
});
