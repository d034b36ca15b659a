// The paths a benchmark client can reach the fixture tools by, each an SDK client: directly
// over stdio, through a process that only copies bytes (bench/byteRelay.js), through the
// gateway to a stdio server, directly over Streamable HTTP, and through the gateway to that
// same HTTP server. Every server is a separate process, as in real use.
import { spawn } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';

export const GATEWAY = new URL('../bin/gateway.js', import.meta.url).pathname;
export const FIXTURE = new URL('../test/fixtures/stdio-server.js', import.meta.url).pathname;
const BYTE_RELAY = new URL('./byteRelay.js', import.meta.url).pathname;
const HTTP_FIXTURE = new URL('../test/fixtures/http-server.js', import.meta.url).pathname;

const tempDirs = [];
export function tempDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}
export function removeTempDirs() {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A config of `count` stdio fixture servers s0…, or of the given entries. */
export function writeConfig(count, entries) {
  const servers = entries ?? {};
  if (!entries)
    for (let i = 0; i < count; i++) servers[`s${i}`] = { command: process.execPath, args: [FIXTURE], env: { FIXTURE_NAME: `s${i}` } };
  const path = join(tempDir('gw-bench-'), '.mcp.json');
  writeFileSync(path, JSON.stringify({ mcpServers: servers, gateway: { logLevel: 'warn' } }));
  return path;
}

export async function connectStdio(through = []) {
  const client = new Client({ name: 'bench', version: '1' });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [...through, FIXTURE],
    env: { ...process.env, FIXTURE_NAME: 's0' },
  });
  await client.connect(transport);
  return { client, prefix: '', pid: transport.pid };
}

export const connectByteRelay = () => connectStdio([BYTE_RELAY]);

/** A gateway over `config`, resolved once its list holds `expected` tools. `extraArgs`: e.g. node flags for profiling. */
export async function connectGateway(config, prefix, expected, { nodeArgs = [], env = {}, gateway = GATEWAY } = {}) {
  const client = new Client({ name: 'bench', version: '1' });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [...nodeArgs, gateway, 'serve', '--config', config],
    env: { ...process.env, MCP_GATEWAY_HOME: tempDir('gw-bench-home-'), ...env },
    stderr: 'ignore',
  });
  const allListed = waitForTools(client, expected);
  await client.connect(transport);
  await allListed;
  return { client, prefix, pid: transport.pid };
}

/** Resolves once tools/list returns `expected` tools (re-listing on each list_changed). */
export function waitForTools(client, expected) {
  return new Promise((resolve) => {
    const check = async () => {
      const { tools } = await client.listTools();
      if (tools.length >= expected) resolve(performance.now());
    };
    client.setNotificationHandler(ToolListChangedNotificationSchema, check);
    client.oninitialized = check;
    setTimeout(function poll() {
      check().catch(() => {});
    }, 0);
  });
}

/** The Streamable HTTP fixture (the SDK's StreamableHTTPServerTransport) in its own process; resolves with its URL. */
export async function startHttpFixture() {
  const child = spawn(process.execPath, [HTTP_FIXTURE, 'streamable'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the HTTP fixture exited (${code})`)));
  });
  return { url, pid: child.pid, close: () => child.kill() };
}

/**
 * The SDK client over Streamable HTTP, as it comes, but for one thing: the SDK passes one
 * long-lived AbortSignal to every fetch, on which undici leaves a listener per request until
 * the request is garbage-collected, and past 1,500 Node prints a MaxListenersExceededWarning
 * for every further request. Its limit is lifted so that the baseline is not a warning printer.
 */
export async function connectHttp(url) {
  const client = new Client({ name: 'bench', version: '1' });
  const transport = new StreamableHTTPClientTransport(new URL(url));
  await client.connect(transport);
  setMaxListeners(0, transport._abortController.signal);
  return { client, prefix: '' };
}

/**
 * Every per-call path, opened once and kept for all rounds. `nodeArgs`: flags for the
 * gateways' node (e.g. --cpu-prof); `only`: the names of the paths to open; `before`: another
 * gateway build to run beside this one.
 */
export async function openPaths({ nodeArgs, env, only, before } = {}) {
  const wanted = (name) => !only || only.includes(name);
  const http = await startHttpFixture();
  const probe = await connectStdio();
  const toolsPerServer = (await probe.client.listTools()).tools.length;
  await probe.client.close();
  const paths = [];
  const open = async (name, group, connect) => {
    if (wanted(name)) paths.push({ name, group, ...(await connect()) });
  };
  await open('direct stdio', 'stdio', () => connectStdio());
  await open('byte relay', 'stdio', connectByteRelay);
  await open('gateway, stdio server', 'stdio', () => connectGateway(writeConfig(1), 's0__', toolsPerServer, { nodeArgs, env }));
  await open('direct HTTP', 'http', () => connectHttp(http.url));
  await open('gateway, HTTP server', 'http', () =>
    connectGateway(writeConfig(0, { h0: { url: http.url } }), 'h0__', toolsPerServer, { nodeArgs, env }),
  );
  // Another build of the gateway side by side (`--before path/to/bin/gateway.js`, e.g. main's), to compare in one run.
  if (before) {
    await open('before, stdio server', 'stdio', () => connectGateway(writeConfig(1), 's0__', toolsPerServer, { gateway: before }));
    await open('before, HTTP server', 'http', () =>
      connectGateway(writeConfig(0, { h0: { url: http.url } }), 'h0__', toolsPerServer, { gateway: before }),
    );
  }
  return {
    paths,
    toolsPerServer,
    async close() {
      for (const path of paths) await path.client.close().catch(() => {});
      http.close();
    },
  };
}
