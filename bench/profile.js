#!/usr/bin/env node
// Profiles the two gateway paths under the per-call load (not part of `npm run bench`):
//   node bench/profile.js counts   what one call costs inside each gateway (bench/probe.js)
//   node bench/profile.js cpu      a --cpu-prof of each gateway; prints the top self times
// Each gateway runs 2,000 sequential echo calls, then 6,400 with 64 in flight.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { IN_FLIGHT, latency, THROUGHPUT_CALLS, LATENCY_CALLS, throughput } from './measures.js';
import { openPaths, removeTempDirs, tempDir } from './paths.js';

const mode = process.argv[2] ?? 'counts';
const PROBE = new URL('./probe.js', import.meta.url).pathname;
const out = tempDir('gw-profile-');
const probeOut = join(out, 'probe.jsonl');
const nodeArgs = mode === 'cpu' ? ['--cpu-prof', `--cpu-prof-dir=${out}`] : ['--import', PROBE];
const only = ['gateway, stdio server', 'gateway, HTTP server'];
const opened = await openPaths({ nodeArgs, env: { PROBE_OUT: probeOut }, only });

/** Each gateway's counts since the last dump, divided by `calls`. */
async function dump(path, calls) {
  process.kill(path.pid, 'SIGUSR2');
  await sleep(200);
  const lines = readFileSync(probeOut, 'utf8').trim().split('\n');
  const report = JSON.parse(lines[lines.length - 1]);
  const perCall = Object.fromEntries(Object.entries(report.counts).map(([key, n]) => [key, +(n / calls).toFixed(2)]));
  return { ...report, counts: perCall };
}

for (const path of opened.paths) {
  await latency(path); // warm-up
  if (mode === 'counts') await dump(path, 1);
  const sequential = await latency(path);
  const sequentialCounts = mode === 'counts' ? await dump(path, LATENCY_CALLS + 200) : undefined;
  const rate = await throughput(path);
  const loadCounts = mode === 'counts' ? await dump(path, THROUGHPUT_CALLS) : undefined;
  console.log(`\n== ${path.name}: p50 ${sequential.p50.toFixed(3)} ms, ${rate.toFixed(0)} calls/s with ${IN_FLIGHT} in flight`);
  if (sequentialCounts) console.log('per call, sequential:', JSON.stringify(sequentialCounts, null, 1));
  if (loadCounts) console.log(`per call, ${IN_FLIGHT} in flight:`, JSON.stringify(loadCounts, null, 1));
}
await opened.close();

if (mode === 'cpu') {
  await sleep(1500); // the gateways write their profiles as they exit
  for (const file of readdirSync(out).filter((name) => name.endsWith('.cpuprofile'))) topSelfTimes(join(out, file));
}
removeTempDirs();

/** The functions with the most self time in one profile (idle and GC shown as such). */
function topSelfTimes(file) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]);
    const { functionName, url, lineNumber } = node.callFrame;
    const key = `${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  console.log(`\n${file} (${(total / 1e6).toFixed(1)} s sampled): top self time`);
  for (const [key, micros] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25))
    console.log(`${((100 * micros) / total).toFixed(1).padStart(5)}%  ${key}`);
}
