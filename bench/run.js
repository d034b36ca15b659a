#!/usr/bin/env node
// Benchmark: the gateway side by side with direct connections to the same fixture servers, in
// one run: per call (five paths, see paths.js; several rounds, the paths interleaved in each),
// then the first tools/list after spawn. Run with `npm run bench`.
//   --rounds N   rounds of the per-call measures (default 5)
//   --per-call   only the per-call measures;  --startup  only the first tools/list
//   --only 'a|b' only these paths (names as printed);  --json  the numbers as JSON
//   --before F   also another build of the gateway (its bin/gateway.js), beside this one
import { loadavg } from 'node:os';
import { bigResult, headOfLine, latency, throughput } from './measures.js';
import { openPaths, removeTempDirs } from './paths.js';
import { perCallTable, startupTable } from './report.js';
import { rssMb, startups } from './startup.js';

const argv = process.argv.slice(2);
const option = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const ROUNDS = Number(option('--rounds') ?? 5);
const only = option('--only')?.split('|');
const startupOnly = argv.includes('--startup');
const perCallOnly = argv.includes('--per-call');

const MEASURES = [
  ['latency', latency, (row, r) => Object.assign(row, r)],
  ['throughput', throughput, (row, r) => (row.throughput = r)],
  ['big', bigResult, (row, r) => (row.big = r)],
  ['headOfLine', headOfLine, (row, r) => Object.assign(row, { holP50: r.p50, holMax: r.max, holQuickCalls: r.quickCalls })],
];

/** One round: each measure on every path in turn (the order rotated from round to round). */
async function round(paths, index, rss) {
  const rows = Object.fromEntries(paths.map((path) => [path.name, {}]));
  const order = paths.map((_, i) => paths[(i + index) % paths.length]);
  for (const [, measure, keep] of MEASURES) {
    for (const path of order) {
      const sampler = path.name === 'gateway, stdio server' && path.pid ? setInterval(() => rss.push(rssMb(path.pid)), 50) : undefined;
      keep(rows[path.name], await measure(path));
      clearInterval(sampler);
    }
  }
  return rows;
}

async function perCall(results) {
  const opened = await openPaths({ only, before: option('--before') });
  const gateway = opened.paths.find((path) => path.name === 'gateway, stdio server');
  results.rssIdle = gateway ? rssMb(gateway.pid) : undefined;
  const rss = [];
  results.rounds = [];
  for (let i = 0; i < ROUNDS; i++) {
    results.rounds.push(await round(opened.paths, i, rss));
    process.stderr.write(`round ${i + 1}/${ROUNDS} done (load ${loadavg()[0].toFixed(2)})\n`);
  }
  results.rssPeak = rss.length ? Math.max(...rss) : undefined;
  await opened.close();
  return { names: opened.paths.map((path) => path.name), toolsPerServer: opened.toolsPerServer };
}

const results = { loadBefore: loadavg() };
const lines = [''];
let toolsPerServer = 9;
if (!startupOnly) {
  const { names, toolsPerServer: count } = await perCall(results);
  toolsPerServer = count;
  lines.push(...perCallTable(results.rounds, names), '');
  if (results.rssIdle !== undefined)
    lines.push(`gateway RSS, 1 stdio server: ${results.rssIdle.toFixed(1)} MB idle, ${results.rssPeak.toFixed(1)} MB peak under load`, '');
}
if (!perCallOnly) {
  results.startup = {};
  for (const count of [1, 10, 30]) results.startup[count] = await startups(count, toolsPerServer);
  lines.push(...startupTable(results.startup), '');
}
results.loadAfter = loadavg();
lines.push(
  `(node ${process.version}; load average ${results.loadBefore.map((v) => v.toFixed(2)).join(' ')} before, ` +
    `${results.loadAfter.map((v) => v.toFixed(2)).join(' ')} after)`,
  '',
);
removeTempDirs();
process.stdout.write(argv.includes('--json') ? `${JSON.stringify(results, null, 2)}\n` : lines.join('\n'));
