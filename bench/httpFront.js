#!/usr/bin/env node
// Benchmark: the gateway served over HTTP (`serve --http`) against a client talking Streamable
// HTTP directly to the same fixture server. Paths, each an SDK client over Streamable HTTP:
//   direct        → the HTTP fixture (the SDK's StreamableHTTPServerTransport, its own process)
//   front → HTTP  → gateway --http → that same HTTP fixture
//   front → stdio → gateway --http → the stdio fixture
// Per path, with 1 session and with 10 (each calling in turn, all at once): p50/p99 of echo
// calls and throughput; then the gateway's memory per idle session. Rounds interleave the
// paths; medians with min–max. `--rounds N` (default 3), `--json`.
import { spawn } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const GATEWAY = new URL('../bin/gateway.js', import.meta.url).pathname;
const STDIO_FIXTURE = new URL('../test/fixtures/stdio-server.js', import.meta.url).pathname;
const HTTP_FIXTURE = new URL('../test/fixtures/http-server.js', import.meta.url).pathname;
const CALLS = 2000;
const WARMUP = 200;
const IDLE_SESSIONS = 500;
const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 3;
// The SDK's Streamable HTTP client hands one AbortSignal to every request, and undici lets go of
// each listener only at garbage collection: thousands of calls would warn (bench clients only).
setMaxListeners(0);
const home = mkdtempSync(join(tmpdir(), 'gw-bench-http-'));
const children = [];
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(home, { recursive: true, force: true });
});

/** Spawns a process and resolves with it and the first match of `pattern` in its output. */
function spawnUntil(args, pattern, env = {}) {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, MCP_GATEWAY_HOME: home, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let seen = '';
  return new Promise((resolve, reject) => {
    const look = (chunk) => {
      seen += chunk;
      const match = pattern.exec(seen);
      if (match) resolve({ child, match: match[1] });
    };
    child.stdout.setEncoding('utf8').on('data', look);
    child.stderr.setEncoding('utf8').on('data', look);
    child.on('exit', () => reject(new Error(`exited: ${seen}`)));
  });
}

async function startGateway(server) {
  const config = join(mkdtempSync(join(home, 'cfg-')), '.mcp.json');
  writeFileSync(config, JSON.stringify({ mcpServers: { s0: server }, gateway: { logLevel: 'warn', http: { maxSessions: 2000 } } }));
  const { child, match } = await spawnUntil(
    [GATEWAY, 'serve', '--http', '127.0.0.1:0', '--config', config, '--log-level', 'info'],
    /at (http:\S+\/mcp)/,
  );
  return { url: match, pid: child.pid, prefix: 's0__', token: readFileSync(join(home, 'http-token'), 'utf8').trim() };
}

async function connect({ url, prefix, token }) {
  const client = new Client({ name: 'bench', version: '1' });
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  await client.listTools();
  return { client, prefix };
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** `sessions` clients, each making CALLS sequential calls, all at once: latency percentiles and calls per second. */
async function measure(target, sessions) {
  const clients = await Promise.all(Array.from({ length: sessions }, () => connect(target)));
  const one = async ({ client, prefix }, samples) => {
    for (let i = 0; i < CALLS; i++) {
      const start = performance.now();
      await client.callTool({ name: `${prefix}echo`, arguments: { text: 'ping' } });
      if (samples) samples.push(performance.now() - start);
    }
  };
  for (const { client, prefix } of clients)
    for (let i = 0; i < WARMUP / 10; i++) await client.callTool({ name: `${prefix}echo`, arguments: { text: 'w' } });
  const samples = [];
  const start = performance.now();
  await Promise.all(clients.map((client) => one(client, samples)));
  const seconds = (performance.now() - start) / 1000;
  await Promise.all(clients.map(({ client }) => client.close()));
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p99: percentile(samples, 99), perSecond: (sessions * CALLS) / seconds };
}

/** The gateway's memory as its /status reports it (heap used and resident set, bytes); the lower of a few readings a moment apart. */
async function memoryOf({ url, token }) {
  const readings = [];
  for (let i = 0; i < 5; i++) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const status = await (await fetch(new URL('/status', url), { headers: { authorization: `Bearer ${token}` } })).json();
    readings.push(status.process);
  }
  return { heap: Math.min(...readings.map((r) => r.heapUsedBytes)), rss: Math.min(...readings.map((r) => r.rssBytes)) };
}

/**
 * The gateway's memory per idle session: heap used and RSS before and after IDLE_SESSIONS
 * sessions are opened (initialized, tools listed once) and left idle, divided by their number.
 */
async function memoryPerSession(target) {
  const before = await memoryOf(target);
  const clients = [];
  for (let i = 0; i < IDLE_SESSIONS; i++) clients.push(await connect(target));
  const after = await memoryOf(target);
  await Promise.all(clients.map(({ client }) => client.close()));
  return { heap: (after.heap - before.heap) / IDLE_SESSIONS, rss: (after.rss - before.rss) / IDLE_SESSIONS };
}

const { match: fixtureUrl } = await spawnUntil([HTTP_FIXTURE, 'streamable'], /(http:\S+\/mcp)/);
const paths = {
  direct: { url: fixtureUrl, prefix: '' },
  'front → HTTP': await startGateway({ url: fixtureUrl }),
  'front → stdio': await startGateway({ command: process.execPath, args: [STDIO_FIXTURE], env: { FIXTURE_NAME: 's0' } }),
};
for (const target of Object.values(paths)) await (await connect(target)).client.close();

const results = {};
for (let round = 0; round < rounds; round++) {
  for (const sessions of [1, 10]) {
    for (const [name, target] of Object.entries(paths)) {
      const key = `${name}|${sessions}`;
      (results[key] ??= []).push(await measure(target, sessions));
    }
  }
}
// On a gateway of its own, which no measure above has used.
const memory = await memoryPerSession(
  await startGateway({ command: process.execPath, args: [STDIO_FIXTURE], env: { FIXTURE_NAME: 's0' } }),
);

const summary = {};
for (const [key, runs] of Object.entries(results)) {
  summary[key] = {};
  for (const measureName of ['p50', 'p99', 'perSecond']) {
    const values = runs.map((run) => run[measureName]);
    summary[key][measureName] = { median: median(values), min: Math.min(...values), max: Math.max(...values) };
  }
}

if (process.argv.includes('--json')) {
  process.stdout.write(`${JSON.stringify({ rounds, summary, memoryPerIdleSessionBytes: memory, loadavg: loadavg() }, null, 2)}\n`);
} else {
  const range = ({ median: m, min, max }, digits) => `${m.toFixed(digits)} (${min.toFixed(digits)}–${max.toFixed(digits)})`;
  const lines = [
    `HTTP front: ${rounds} rounds, ${CALLS} echo calls per session; load average ${loadavg()
      .map((v) => v.toFixed(1))
      .join(' ')}`,
    '',
  ];
  lines.push('| path | sessions | p50 ms | p99 ms | calls/s | p50 vs direct |', '| --- | --- | --- | --- | --- | --- |');
  for (const sessions of [1, 10]) {
    const direct = summary[`direct|${sessions}`].p50.median;
    for (const name of Object.keys(paths)) {
      const s = summary[`${name}|${sessions}`];
      lines.push(
        `| ${name} | ${sessions} | ${range(s.p50, 3)} | ${range(s.p99, 2)} | ${range(s.perSecond, 0)} | ${name === 'direct' ? '' : `${(s.p50.median / direct).toFixed(2)}×`} |`,
      );
    }
  }
  lines.push(
    '',
    `gateway memory per idle session (${IDLE_SESSIONS} sessions): heap ${(memory.heap / 1024).toFixed(1)} KiB, RSS ${(memory.rss / 1024).toFixed(1)} KiB`,
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}
process.exit(0);
