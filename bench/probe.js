// Loaded into a gateway with `node --import bench/probe.js` by bench/profile.js (never in use
// otherwise): counts, per process, what one call costs — JSON.parse/stringify, writes by
// destination, timers, garbage collections, and with PROBE_PROMISES=1 promises created (an
// async hook, which slows every promise and so the times measured) — plus the event loop's
// delay, the time from a downstream's bytes arriving to the answer being written upstream,
// and from a call arriving to it being written to its server. SIGUSR2 writes the counts
// since the last SIGUSR2 to $PROBE_OUT (one JSON line) and starts over.
import { createHook } from 'node:async_hooks';
import { appendFileSync } from 'node:fs';
import net from 'node:net';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { Duplex, Writable } from 'node:stream';

let counts = {};
const count = (key, n = 1) => (counts[key] = (counts[key] ?? 0) + n);
const wrap = (owner, name, key) => {
  const original = owner[name];
  owner[name] = function (...args) {
    count(key);
    return original.apply(this, args);
  };
};
wrap(JSON, 'parse', 'JSON.parse');
wrap(JSON, 'stringify', 'JSON.stringify');
wrap(globalThis, 'setTimeout', 'setTimeout');
wrap(globalThis, 'clearTimeout', 'clearTimeout');
wrap(globalThis, 'setImmediate', 'setImmediate');
wrap(globalThis, 'queueMicrotask', 'queueMicrotask');

const destination = (stream) =>
  stream === process.stdout ? 'upstream (stdout)' : stream instanceof net.Socket && stream.remotePort ? 'http socket' : 'child stdin';
// Duplex (and so net.Socket) has its own copy of Writable's write.
for (const proto of [Writable.prototype, Duplex.prototype]) {
  const write = proto.write;
  proto.write = function (...args) {
    const to = destination(this);
    count(`write → ${to}`);
    if (this === process.stdout) answered();
    else sent();
    return write.apply(this, args);
  };
}
const socketWrite = net.Socket.prototype._writeGeneric;
net.Socket.prototype._writeGeneric = function (writev, data, ...rest) {
  count(`${writev ? 'writev' : 'socket write'} (syscall) → ${destination(this)}`);
  return socketWrite.call(this, writev, data, ...rest);
};

// Bytes from anywhere but the client (stdin): a downstream's answer arriving.
let lastDownstreamData = 0;
const answerDelays = [];
const emit = net.Socket.prototype.emit;
net.Socket.prototype.emit = function (event, ...args) {
  if (event === 'data') {
    if (this === process.stdin) lastClientData = performance.now();
    else lastDownstreamData = performance.now();
  }
  return emit.call(this, event, ...args);
};
// Bytes from the client (stdin): a call arriving, until it is written to its server.
let lastClientData = 0;
const sendDelays = [];
function sent() {
  if (lastClientData) sendDelays.push(performance.now() - lastClientData);
  lastClientData = 0;
}
function answered() {
  if (lastDownstreamData) answerDelays.push(performance.now() - lastDownstreamData);
  lastDownstreamData = 0;
}

if (process.env.PROBE_PROMISES) createHook({ init: (id, type) => type === 'PROMISE' && count('promises') }).enable();
let gcMaxMs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    count('gc');
    gcMaxMs = Math.max(gcMaxMs, entry.duration);
  }
}).observe({ entryTypes: ['gc'] });
let loopDelay = monitorEventLoopDelay({ resolution: 1 });
loopDelay.enable();

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
process.on('SIGUSR2', () => {
  const sorted = answerDelays.splice(0).sort((a, b) => a - b);
  const report = {
    counts,
    gcMaxMs,
    loopDelayMs: { p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
    answerToUpstreamMs: { n: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99) },
    callToDownstreamMs: (() => {
      const calls = sendDelays.splice(0).sort((a, b) => a - b);
      return { n: calls.length, p50: percentile(calls, 50), p99: percentile(calls, 99) };
    })(),
  };
  if (process.env.PROBE_OUT) appendFileSync(process.env.PROBE_OUT, `${JSON.stringify(report)}\n`);
  counts = {};
  gcMaxMs = 0;
  loopDelay.disable();
  loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
});
