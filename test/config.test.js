// Config layer: finding, parsing, expanding and validating .mcp.json, with the messages users see.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { validateConfig } from '../dist/config/validateConfig.js';
import { loadConfig } from '../dist/config/loadConfig.js';
import { findConfigFile } from '../dist/config/findConfigFile.js';
import { ConfigError, ConfigNotFoundError } from '../dist/shared/errors.js';
import { tempDir } from './helpers/gatewayProcess.js';

const FILE = '/home/u/.mcp.json';
const GATEWAY = new URL('../bin/gateway.js', import.meta.url).pathname;

function rejects(raw, message, env = {}) {
  assert.throws(
    () => validateConfig(raw, FILE, env),
    (error) => {
      assert.ok(error instanceof ConfigError, `expected ConfigError, got ${error}`);
      assert.equal(error.message, message);
      return true;
    },
  );
}

test('accepts the Claude Desktop / Claude Code format', () => {
  const config = validateConfig(
    {
      mcpServers: {
        files: { command: 'npx', args: ['-y', 'fs', '/tmp'], env: { A: '1' }, cwd: '/srv' },
        notion: { url: 'https://mcp.notion.com/mcp', headers: { 'X-Team': 't' } },
        legacy: { type: 'sse', url: 'https://example.com/sse' },
        code: { type: 'http', url: 'https://example.com/mcp', oauth: { clientId: 'abc', callbackPort: 8765, scopes: ['read'] } },
        other: { transport: 'streamable-http', url: 'https://example.com/mcp', disabled: true, timeout: 5000 },
        local: { type: 'stdio', command: 'srv' },
      },
      gateway: { logLevel: 'debug', connectTimeout: 1000 },
    },
    FILE,
    {},
  );
  assert.deepEqual(config.warnings, []);
  const byName = Object.fromEntries(config.servers.map((s) => [s.name, s]));
  assert.deepEqual(byName.files, {
    kind: 'stdio',
    name: 'files',
    command: 'npx',
    args: ['-y', 'fs', '/tmp'],
    env: { A: '1' },
    cwd: '/srv',
    timeout: undefined,
    disabled: false,
  });
  assert.equal(byName.notion.transport, 'streamable-http');
  assert.deepEqual(byName.notion.headers, { 'X-Team': 't' });
  assert.equal(byName.legacy.transport, 'sse');
  assert.deepEqual(byName.code.oauth, { clientId: 'abc', callbackPort: 8765, scopes: ['read'] });
  assert.equal(byName.other.disabled, true);
  assert.equal(byName.other.timeout, 5000);
  assert.equal(byName.local.kind, 'stdio');
  assert.equal(config.gateway.logLevel, 'debug');
  assert.equal(config.gateway.connectTimeout, 1000);
});

test('relative cwd is resolved against the config file directory', () => {
  const config = validateConfig({ mcpServers: { a: { command: 'x', cwd: 'sub' } } }, FILE, {});
  assert.equal(config.servers[0].cwd, '/home/u/sub');
});

test('expands ${VAR} and ${VAR:-default} in command, args, env, url and headers', () => {
  const env = { HOME_DIR: '/home/u', TOKEN: 'sekrit', HOST: 'example.com' };
  const config = validateConfig(
    {
      mcpServers: {
        s: { command: '${HOME_DIR}/bin/srv', args: ['--dir=${HOME_DIR}', '${MISSING:-fallback}'], env: { T: 'Bearer ${TOKEN}' } },
        h: { url: 'https://${HOST}/mcp', headers: { Authorization: 'Bearer ${TOKEN}', 'X-Empty': '${NOPE:-}' } },
      },
    },
    FILE,
    env,
  );
  assert.equal(config.servers[0].command, '/home/u/bin/srv');
  assert.deepEqual(config.servers[0].args, ['--dir=/home/u', 'fallback']);
  assert.deepEqual(config.servers[0].env, { T: 'Bearer sekrit' });
  assert.equal(config.servers[1].url, 'https://example.com/mcp');
  assert.deepEqual(config.servers[1].headers, { Authorization: 'Bearer sekrit', 'X-Empty': '' });
});

test('a missing variable names the variable, the server and the field', () => {
  rejects(
    { mcpServers: { notion: { url: 'https://x/mcp', headers: { Authorization: 'Bearer ${NOTION_TOKEN}' } } } },
    `${FILE}: mcpServers.notion.headers.Authorization: environment variable NOTION_TOKEN is not set (set it, or write \${NOTION_TOKEN:-default})`,
  );
  rejects(
    { mcpServers: { s: { command: 'x', args: ['a', '${NOPE}'] } } },
    `${FILE}: mcpServers.s.args[1]: environment variable NOPE is not set (set it, or write \${NOPE:-default})`,
  );
});

test('each invalid config names file, server and field', () => {
  rejects([], `${FILE}: the top level must be a JSON object with an "mcpServers" object`);
  rejects({}, `${FILE}: mcpServers: missing (expected {"mcpServers": {"name": {"command": ...} | {"url": ...}}})`);
  rejects({ mcpServers: [] }, `${FILE}: mcpServers: must be an object mapping server names to server entries`);
  rejects({ mcpServers: { notion: { url: 'not a url' } } }, `${FILE}: mcpServers.notion.url: not a valid URL: "not a url"`);
  rejects({ mcpServers: { notion: { url: 'ftp://x/y' } } }, `${FILE}: mcpServers.notion.url: must be an http:// or https:// URL, not ftp:`);
  rejects({ mcpServers: { s: {} } }, `${FILE}: mcpServers.s: needs "command" (a stdio server) or "url" (an HTTP server)`);
  rejects({ mcpServers: { s: 'npx' } }, `${FILE}: mcpServers.s: must be an object with "command" (stdio) or "url" (HTTP)`);
  rejects(
    { mcpServers: { s: { command: 'a', url: 'https://x' } } },
    `${FILE}: mcpServers.s: has both "command" and "url"; a server is either stdio (command) or HTTP (url)`,
  );
  rejects({ mcpServers: { s: { command: 5 } } }, `${FILE}: mcpServers.s.command: must be a string, not number 5`);
  rejects(
    { mcpServers: { s: { command: 'a', args: 'x y' } } },
    `${FILE}: mcpServers.s.args: must be an array of strings, not the string "x y"`,
  );
  rejects({ mcpServers: { s: { command: 'a', args: ['x', 1] } } }, `${FILE}: mcpServers.s.args[1]: must be a string, not number 1`);
  rejects({ mcpServers: { s: { command: 'a', env: { A: 1 } } } }, `${FILE}: mcpServers.s.env.A: must be a string, not number 1`);
  rejects(
    { mcpServers: { s: { command: 'a', timeout: -1 } } },
    `${FILE}: mcpServers.s.timeout: must be a positive whole number (milliseconds), not number -1`,
  );
  rejects(
    { mcpServers: { s: { command: 'a', disabled: 'yes' } } },
    `${FILE}: mcpServers.s.disabled: must be true or false, not the string "yes"`,
  );
  rejects(
    { mcpServers: { s: { url: 'https://x', type: 'websocket' } } },
    `${FILE}: mcpServers.s.type: unknown transport "websocket" (use "http", "streamable-http" or "sse")`,
  );
  rejects(
    { mcpServers: { s: { command: 'a', type: 'sse' } } },
    `${FILE}: mcpServers.s.type: "sse" needs a "url"; a server with "command" is "stdio"`,
  );
  rejects(
    { mcpServers: { s: { url: 'https://x', type: 'stdio' } } },
    `${FILE}: mcpServers.s.type: "stdio" needs a "command", but this server has a "url"`,
  );
  rejects(
    { mcpServers: { s: { url: 'https://x', oauth: { callbackPort: 70000 } } } },
    `${FILE}: mcpServers.s.oauth.callbackPort: must be a TCP port (1-65535)`,
  );
  rejects(
    { mcpServers: { s: { command: 'a' } }, gateway: { logLevel: 'loud' } },
    `${FILE}: gateway.logLevel: must be one of error, warn, info, debug`,
  );
});

test('server names that cannot be a tool prefix are rejected clearly', () => {
  const tail = 'its tools are exposed as <server>__<tool>, so rename it';
  rejects({ mcpServers: { '': { command: 'a' } } }, `${FILE}: mcpServers.: server name "" is empty; ${tail}`);
  rejects(
    { mcpServers: { my__srv: { command: 'a' } } },
    `${FILE}: mcpServers.my__srv: server name "my__srv" contains "__", which separates server and tool names; ${tail}`,
  );
  rejects(
    { mcpServers: { 'my srv': { command: 'a' } } },
    `${FILE}: mcpServers.my srv: server name "my srv" may contain only letters, digits, "_" and "-"; ${tail}`,
  );
  rejects(
    { mcpServers: { naïve: { command: 'a' } } },
    `${FILE}: mcpServers.naïve: server name "naïve" may contain only letters, digits, "_" and "-"; ${tail}`,
  );
  rejects(
    { mcpServers: { srv_: { command: 'a' } } },
    `${FILE}: mcpServers.srv_: server name "srv_" must not end with "_" (tool names would become ambiguous); ${tail}`,
  );
});

test('unknown fields warn and never crash', () => {
  const config = validateConfig(
    { mcpServers: { s: { command: 'a', url2: 1, headers: {} } }, extra: true, gateway: { colour: 'red' } },
    FILE,
    {},
  );
  assert.deepEqual(config.warnings, [
    `${FILE}: extra: unknown field, ignored`,
    `${FILE}: mcpServers.s.url2: unknown field, ignored`,
    `${FILE}: mcpServers.s.headers: unknown field, ignored (it applies to HTTP servers only)`,
    `${FILE}: gateway.colour: unknown field, ignored`,
  ]);
  assert.equal(config.servers.length, 1);
});

test('invalid JSON reports line and column', () => {
  const dir = tempDir('gw-config-');
  const path = join(dir, 'bad.json');
  writeFileSync(path, '{\n  "mcpServers": {\n    "a": {"command": "x",}\n  }\n}\n');
  assert.throws(
    () => loadConfig(path),
    (error) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, new RegExp(`^${path}:3:26: invalid JSON: `));
      return true;
    },
  );
  writeFileSync(path, '{"mcpServers": {');
  assert.throws(() => loadConfig(path), /bad\.json:1:17: invalid JSON: /);
});

test('the CLI reports a bad config on stderr, exits 2 and writes nothing to stdout', () => {
  const dir = tempDir('gw-config-');
  const path = join(dir, '.mcp.json');
  writeFileSync(path, JSON.stringify({ mcpServers: { notion: { url: 'nope' } } }));
  for (const command of ['serve', 'list']) {
    const run = spawnSync(process.execPath, [GATEWAY, command, '--config', path], { encoding: 'utf8', input: '' });
    assert.equal(run.status, 2, run.stderr);
    assert.equal(run.stdout, '');
    assert.equal(run.stderr, `gateway: ${path}: mcpServers.notion.url: not a valid URL: "nope"\n`);
  }
  const missing = spawnSync(process.execPath, [GATEWAY, 'list', '--config', join(dir, 'nope.json')], { encoding: 'utf8' });
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /nope\.json: config file not found \(given with --config\)/);
});

test('without --config the gateway uses ./.mcp.json, and says where it looked when there is none', () => {
  const dir = tempDir('gw-config-');
  const env = { ...process.env, XDG_CONFIG_HOME: join(dir, 'xdg') };
  const none = spawnSync(process.execPath, [GATEWAY, 'list'], { encoding: 'utf8', cwd: dir, env });
  assert.equal(none.status, 2);
  assert.match(none.stderr, /no config file found; looked for .*\.mcp\.json and .*xdg\/mcp-oauth-gateway\/config\.json/);
  writeFileSync(join(dir, '.mcp.json'), JSON.stringify({ mcpServers: {} }));
  const found = spawnSync(process.execPath, [GATEWAY, 'list', '--json'], { encoding: 'utf8', cwd: dir, env });
  assert.equal(found.status, 0, found.stderr);
  assert.equal(JSON.parse(found.stdout).config, join(dir, '.mcp.json'));
});

test('no config file: ConfigNotFoundError naming where the gateway looked; auth commands go on without one, unless --config named it', () => {
  const dir = tempDir('gw-config-');
  const env = { ...process.env, XDG_CONFIG_HOME: join(dir, 'xdg'), MCP_GATEWAY_HOME: join(dir, 'home') };
  assert.throws(
    () => findConfigFile(undefined, dir),
    (error) => {
      assert.ok(error instanceof ConfigNotFoundError && error.code === 'config_not_found', String(error));
      assert.deepEqual([error.explicit, error.candidates[0]], [false, join(dir, '.mcp.json')]);
      return true;
    },
  );
  assert.throws(
    () => findConfigFile('nope.json', dir),
    (error) => error instanceof ConfigNotFoundError && error.explicit && error.candidates[0] === join(dir, 'nope.json'),
  );
  const status = spawnSync(process.execPath, [GATEWAY, 'auth', 'status'], { encoding: 'utf8', cwd: dir, env });
  assert.equal(status.status, 0, status.stderr);
  const named = spawnSync(process.execPath, [GATEWAY, 'auth', 'status', '--config', 'nope.json'], { encoding: 'utf8', cwd: dir, env });
  assert.equal(named.status, 2);
  assert.equal(named.stderr, `gateway: ${join(dir, 'nope.json')}: config file not found (given with --config)\n`);
});

test('usage errors exit 2; --help and --version exit 0', () => {
  const bad = spawnSync(process.execPath, [GATEWAY, 'serve', '--bogus'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown option '--bogus'/);
  const help = spawnSync(process.execPath, [GATEWAY, '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /Examples:/);
  const version = spawnSync(process.execPath, [GATEWAY, '--version'], { encoding: 'utf8' });
  assert.equal(version.status, 0);
  assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
});
