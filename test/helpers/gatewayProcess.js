// Runs `node bin/gateway.js serve` as a real child process and drives it with the SDK's
// Client over stdio, exactly as Claude Desktop would, while recording every raw stdout line.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { JSONRPCMessageSchema } from '@modelcontextprotocol/sdk/types.js';
import { after } from 'node:test';

export const GATEWAY = new URL('../../bin/gateway.js', import.meta.url).pathname;
export const STDIO_FIXTURE = new URL('../fixtures/stdio-server.js', import.meta.url).pathname;

const madeDirs = [];

/**
 * A new directory under the OS temp dir, removed with everything in it when this test
 * process exits (after the files' `after` hooks have ended the gateways writing there).
 */
export function tempDir(prefix = 'gw-test-') {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (!madeDirs.length) process.on('exit', removeTempDirs);
  madeDirs.push(dir);
  return dir;
}

function removeTempDirs() {
  for (const dir of madeDirs.splice(0)) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch (error) {
      process.stderr.write(`could not remove ${dir}: ${error.message}\n`);
    }
  }
}

export function writeConfig(config, dir = tempDir()) {
  const path = join(dir, '.mcp.json');
  writeFileSync(path, JSON.stringify(config, null, 2));
  return path;
}

/**
 * A data directory of its own (token store, catalog cache) for a gateway a test starts, unless
 * the test names one: no test sees another's cached catalogs or logins.
 */
export function isolatedHome() {
  return { MCP_GATEWAY_HOME: tempDir('gw-home-') };
}

/** A stdio fixture server entry for a config. */
export function stdioServer(name, env = {}) {
  return { command: process.execPath, args: [STDIO_FIXTURE], env: { FIXTURE_NAME: name, ...env } };
}

/** A Transport over a spawned gateway's stdin/stdout that keeps every raw stdout line. */
class RecordingStdioTransport {
  constructor(child) {
    this.child = child;
    this.rawLines = [];
    this.buffer = '';
  }
  async start() {
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk) => {
      this.buffer += chunk;
      let index;
      while ((index = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, index);
        this.buffer = this.buffer.slice(index + 1);
        this.rawLines.push(line);
        let message;
        try {
          message = JSONRPCMessageSchema.parse(JSON.parse(line));
        } catch (error) {
          this.onerror?.(error);
          continue;
        }
        this.onmessage?.(message);
      }
    });
    this.child.on('close', () => this.onclose?.());
  }
  async send(message) {
    this.child.stdin.write(`${JSON.stringify(message)}\n`);
  }
  async close() {
    this.child.stdin.end();
  }
}

/**
 * Starts the gateway on a config object (or path) and connects an SDK client to it.
 * Returns { client, child, transport, stderr(), exited, notifications, close() }.
 */
export async function startGateway(config, { env = {}, args = [], clientOptions = {}, connect = true } = {}) {
  const configPath = typeof config === 'string' ? config : writeConfig(config);
  const child = spawn(process.execPath, [GATEWAY, 'serve', '--config', configPath, ...args], {
    env: { ...process.env, ...isolatedHome(), ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const transport = new RecordingStdioTransport(child);
  const client = new Client({ name: 'test-client', version: '1.0.0' }, clientOptions);
  const notifications = [];
  client.fallbackNotificationHandler = async (notification) => {
    notifications.push(notification);
  };
  if (connect) await client.connect(transport);
  return {
    client,
    child,
    transport,
    configPath,
    exited,
    notifications,
    stderr: () => stderr,
    async close() {
      child.stdin.end();
      return exited;
    },
  };
}

/** Polls until fn() is truthy (or throws after timeoutMs), for states that arrive asynchronously. */
export async function waitFor(fn, { timeoutMs = 10_000, intervalMs = 25, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** The tool names the gateway lists right now. */
export async function toolNames(client) {
  return (await client.listTools()).tools.map((tool) => tool.name).sort();
}

export function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Runs the CLI to completion without blocking this process (in-process fixture servers keep answering). */
export function runCli(args, { cwd, env = {}, bin = GATEWAY, command } = {}) {
  return new Promise((resolve) => {
    const child = spawn(command ?? process.execPath, command ? args : [bin, ...args], {
      cwd,
      env: { ...process.env, ...isolatedHome(), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c) => (stderr += c));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/**
 * startGateway for one test file: every gateway started through the returned function is
 * killed when the file's tests are over, whatever they left running.
 */
export function trackedGateways() {
  const running = killedAtEnd();
  return async (config, options) => {
    const gw = await startGateway(config, options);
    running.push(gw);
    return gw;
  };
}

/**
 * A list whose processes (anything with a `child`) are ended when the test file's tests are
 * over: asked to stop as a client would (stdin closed, else SIGTERM), so a gateway ends the
 * servers it started; killed if still there after the gateway's own 5 s deadline.
 */
export function killedAtEnd() {
  const list = [];
  after(async () => {
    const running = list.map(({ child }) => child).filter((child) => child.exitCode === null && child.signalCode === null);
    await Promise.all(
      running.map(
        (child) =>
          new Promise((resolve) => {
            const timer = setTimeout(() => child.kill('SIGKILL'), 7000);
            child.once('exit', () => resolve(clearTimeout(timer)));
            if (child.stdin && !child.stdin.destroyed) child.stdin.end();
            else child.kill('SIGTERM');
          }),
      ),
    );
  });
  return list;
}

/** The gateway's own view of one server: its entry in the gateway__status tool's structured answer. */
export async function serverStatus(client, name) {
  const result = await client.callTool({ name: 'gateway__status', arguments: {} });
  return result.structuredContent.servers.find((server) => server.name === name);
}

/**
 * Waits until gateway__status shows the server in `state` (and, if given, `test` holds for its
 * entry); returns the entry. For states a test observes; the log is for what it tells people.
 */
export async function waitForState(gateway, name, state, { test = () => true, timeoutMs = 10_000 } = {}) {
  let last;
  try {
    return await waitFor(
      async () => {
        last = await serverStatus(gateway.client, name);
        return last?.state === state && test(last) ? last : undefined;
      },
      { timeoutMs, what: `${name} ${state}` },
    );
  } catch (error) {
    error.message += `; last seen: ${JSON.stringify(last)}${gateway.stderr ? `\n--- gateway stderr ---\n${gateway.stderr()}` : ''}`;
    throw error;
  }
}
