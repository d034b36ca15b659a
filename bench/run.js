#!/usr/bin/env node
// Benchmark: the gateway against direct stdio, on the same fixture server.
// Prints one table; `--json` prints the numbers as JSON; `--startup` measures only the first
// tools/list (cold and warm). Run with `npm run bench`.
import { readFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';

const GATEWAY = new URL('../bin/gateway.js', import.meta.url).pathname;
const BYTE_RELAY = new URL('./byteRelay.js', import.meta.url).pathname;
const FIXTURE = new URL('../test/fixtures/stdio-server.js', import.meta.url).pathname;
const LATENCY_CALLS = 3000;
const STARTUP_RUNS = 3;
const THROUGHPUT_CALLS = 6400;
const IN_FLIGHT = 64;
const BIG_BYTES = 1024 * 1024;
const BIG_CALLS = 30;

function fixtureEntry(name) {
  return { command: process.execPath, args: [FIXTURE], env: { FIXTURE_NAME: name } };
}

function writeConfig(count) {
  const servers = {};
  for (let i = 0; i < count; i++) servers[`s${i}`] = fixtureEntry(`s${i}`);
  const path = join(mkdtempSync(join(tmpdir(), 'gw-bench-')), '.mcp.json');
  writeFileSync(path, JSON.stringify({ mcpServers: servers, gateway: { logLevel: 'warn' } }));
  return path;
}

async function connectDirect(through = []) {
  const client = new Client({ name: 'bench', version: '1' });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [...through, FIXTURE],
    env: { ...process.env, FIXTURE_NAME: 's0' },
  });
  await client.connect(transport);
  return { client, prefix: '', pid: transport.pid };
}

async function connectGateway(count = 1) {
  const client = new Client({ name: 'bench', version: '1' });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [GATEWAY, 'serve', '--config', writeConfig(count)],
    stderr: 'ignore',
  });
  const allListed = waitForTools(client, count * toolsPerServer);
  await client.connect(transport);
  await allListed;
  return { client, prefix: 's0__', pid: transport.pid };
}

/** Resolves once tools/list returns `expected` tools (re-listing on each list_changed). */
function waitForTools(client, expected) {
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

const ms = (v) => `${v.toFixed(2)} ms`;
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function latency({ client, prefix }) {
  const samples = [];
  for (let i = 0; i < LATENCY_CALLS + 200; i++) {
    const start = performance.now();
    await client.callTool({ name: `${prefix}echo`, arguments: { text: 'ping' } });
    if (i >= 200) samples.push(performance.now() - start); // first 200 warm up
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

async function throughput({ client, prefix }) {
  let next = 0;
  const start = performance.now();
  const worker = async () => {
    while (next++ < THROUGHPUT_CALLS) await client.callTool({ name: `${prefix}echo`, arguments: { text: 'x' } });
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return THROUGHPUT_CALLS / ((performance.now() - start) / 1000);
}

async function bigResult({ client, prefix }) {
  const samples = [];
  for (let i = 0; i < BIG_CALLS + 3; i++) {
    const start = performance.now();
    const result = await client.callTool({ name: `${prefix}big`, arguments: { bytes: BIG_BYTES } });
    if (result.content[0].text.length !== BIG_BYTES) throw new Error('short result');
    if (i >= 3) samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return percentile(samples, 50);
}

/** No call waits on another: a 300 ms call in flight must not delay quick ones. */
async function headOfLine({ client, prefix }) {
  const slow = client.callTool({ name: `${prefix}sleep`, arguments: { ms: 300 } });
  const start = performance.now();
  for (let i = 0; i < 20; i++) await client.callTool({ name: `${prefix}echo`, arguments: { text: 'x' } });
  const quick = performance.now() - start;
  await slow;
  return quick;
}

function rssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
}

/**
 * As Claude Desktop starts the gateway: spawn, `initialize`, one `tools/list`. Spawn →
 * initialize answered, and spawn → that first list, which must hold every tool of `count`
 * servers (cold: a new data directory; warm: the one a previous run left its catalogs in).
 */
async function startup(config, count, home) {
  const client = new Client({ name: 'bench', version: '1' });
  const env = { ...process.env, MCP_GATEWAY_HOME: home };
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [GATEWAY, 'serve', '--config', config],
    env,
    stderr: 'ignore',
  });
  const start = performance.now();
  await client.connect(transport);
  const initialized = performance.now() - start;
  const { tools } = await client.listTools();
  const firstList = performance.now() - start;
  if (tools.length !== count * toolsPerServer + 1)
    throw new Error(`first tools/list held ${tools.length} tools, not ${count * toolsPerServer + 1}`);
  const idleRss = (await new Promise((resolve) => setTimeout(resolve, 500)), rssMb(transport.pid)); // (also lets the catalogs be saved)
  await client.close();
  return { initialized, firstList, idleRss };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const signed = (value) => `${value < 0 ? '−' : '+'}${Math.abs(value).toFixed(0)}`;
const spread = (values) => `${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)}`;

/** Cold and warm first lists, `STARTUP_RUNS` of each, side by side with the servers alone. */
async function startups(count) {
  const config = writeConfig(count);
  const runs = { cold: [], warm: [], alone: [], initialized: [], rss: [] };
  for (let i = 0; i < STARTUP_RUNS; i++) {
    const home = mkdtempSync(join(tmpdir(), 'gw-bench-home-'));
    const cold = await startup(config, count, home);
    const warm = await startup(config, count, home);
    runs.cold.push(cold.firstList);
    runs.warm.push(warm.firstList);
    runs.initialized.push(cold.initialized);
    runs.rss.push(cold.idleRss);
    runs.alone.push(await serversAlone(count));
  }
  return runs;
}

/** How long `count` fixture servers take to start and list their tools on their own, all at once. */
async function serversAlone(count) {
  const start = performance.now();
  const clients = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const client = new Client({ name: 'bench', version: '1' });
      await client.connect(
        new StdioClientTransport({ command: process.execPath, args: [FIXTURE], env: { ...process.env, FIXTURE_NAME: `s${i}` } }),
      );
      await client.listTools();
      return client;
    }),
  );
  const elapsed = performance.now() - start;
  await Promise.all(clients.map((client) => client.close()));
  return elapsed;
}

const results = {};
const direct = await connectDirect();
const toolsPerServer = (await direct.client.listTools()).tools.length;
const startupOnly = process.argv.includes('--startup');
const rows = startupOnly ? (await direct.client.close(), []) : await perCall();
for (const count of [1, 10, 30]) results[`startup${count}`] = await startups(count);

async function perCall() {
  const byteRelay = await connectDirect([BYTE_RELAY]);
  results.latencyByteRelay = await latency(byteRelay);
  await byteRelay.client.close();
  const viaGateway = await connectGateway(1);
  results.latencyDirect = await latency(direct);
  results.latencyGateway = await latency(viaGateway);
  results.throughputDirect = await throughput(direct);
  results.rssBeforeLoad = rssMb(viaGateway.pid);
  const rssBeforeLoad = results.rssBeforeLoad;
  const loadRss = [];
  const sampler = setInterval(() => loadRss.push(rssMb(viaGateway.pid)), 50);
  results.throughputGateway = await throughput(viaGateway);
  clearInterval(sampler);
  results.rssUnderLoad = Math.max(rssBeforeLoad, ...loadRss);
  results.bigDirect = await bigResult(direct);
  results.bigGateway = await bigResult(viaGateway);
  results.headOfLineDirect = await headOfLine(direct);
  results.headOfLineGateway = await headOfLine(viaGateway);
  await direct.client.close();
  await viaGateway.client.close();
  const r = results;
  return [
    ['tools/call p50', ms(r.latencyDirect.p50), ms(r.latencyGateway.p50), `${(r.latencyGateway.p50 / r.latencyDirect.p50).toFixed(2)}×`],
    [
      '  floor: a bare byte-pipe relay p50',
      ms(r.latencyDirect.p50),
      ms(r.latencyByteRelay.p50),
      `${(r.latencyByteRelay.p50 / r.latencyDirect.p50).toFixed(2)}×`,
    ],
    ['tools/call p99', ms(r.latencyDirect.p99), ms(r.latencyGateway.p99), `${(r.latencyGateway.p99 / r.latencyDirect.p99).toFixed(2)}×`],
    [
      `throughput, ${IN_FLIGHT} in flight`,
      `${r.throughputDirect.toFixed(0)}/s`,
      `${r.throughputGateway.toFixed(0)}/s`,
      `${(r.throughputDirect / r.throughputGateway).toFixed(2)}× slower`,
    ],
    ['1 MiB result p50', ms(r.bigDirect), ms(r.bigGateway), `${(r.bigGateway / r.bigDirect).toFixed(2)}×`],
    [
      '20 quick calls beside a 300 ms call',
      ms(r.headOfLineDirect),
      ms(r.headOfLineGateway),
      r.headOfLineGateway < 300 ? 'not blocked' : 'BLOCKED',
    ],
  ];
}

const r = results;
const lines = rows.length
  ? [
      '',
      'measure                              direct          gateway         ratio',
      ...rows.map((row) => `${row[0].padEnd(37)}${row[1].padEnd(16)}${row[2].padEnd(16)}${row[3]}`),
      '',
    ]
  : [''];
lines.push(
  `first tools/list, complete, after spawn (median of ${STARTUP_RUNS}, min–max in ms): as Claude Desktop lists, once right after initialize`,
  'servers  initialize   servers alone      cold (no cache)           warm (catalog cache)   idle RSS',
);
for (const count of [1, 10, 30]) {
  const s = r[`startup${count}`];
  const alone = median(s.alone);
  lines.push(
    `${String(count).padStart(7)}  ${ms(median(s.initialized)).padEnd(11)}  ${`${ms(alone)}`.padEnd(17)}  ${`${ms(median(s.cold))} (${signed(median(s.cold) - alone)}; ${spread(s.cold)})`.padEnd(24)}  ${`${ms(median(s.warm))} (${spread(s.warm)})`.padEnd(21)}  ${median(s.rss).toFixed(1)} MB`,
  );
}
lines.push(
  '(servers alone: the same fixture servers started in parallel by one process, each initialized and listed; cold: + the gateway over them)',
);
if (!startupOnly)
  lines.push(`gateway RSS, 1 downstream: ${r.rssBeforeLoad.toFixed(1)} MB idle, ${r.rssUnderLoad.toFixed(1)} MB peak under load`);
lines.push(
  startupOnly
    ? `(node ${process.version})`
    : `(node ${process.version}, ${LATENCY_CALLS} sequential calls, ${THROUGHPUT_CALLS} calls for throughput, ${BIG_CALLS} × 1 MiB)`,
  '',
);
process.stdout.write(process.argv.includes('--json') ? `${JSON.stringify(results, null, 2)}\n` : lines.join('\n'));
