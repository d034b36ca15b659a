// The per-call measures, each run against one path ({ client, prefix }) at a time.

export const LATENCY_CALLS = 2000;
const WARM_UP_CALLS = 200;
export const THROUGHPUT_CALLS = 6400;
export const IN_FLIGHT = 64;
export const BIG_BYTES = 1024 * 1024;
export const BIG_CALLS = 30;
export const SLOW_CALLS = 16;
export const SLOW_MS = 100;
const HOL_REPEATS = 5;

export const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const sortedCopy = (values) => [...values].sort((a, b) => a - b);

const echo = ({ client, prefix }, text = 'ping') => client.callTool({ name: `${prefix}echo`, arguments: { text } });

/** p50 and p99 of `LATENCY_CALLS` sequential echo calls (after a warm-up). */
export async function latency(path) {
  const samples = [];
  for (let i = 0; i < LATENCY_CALLS + WARM_UP_CALLS; i++) {
    const start = performance.now();
    await echo(path);
    if (i >= WARM_UP_CALLS) samples.push(performance.now() - start);
  }
  const sorted = sortedCopy(samples);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

/** Calls per second with `IN_FLIGHT` calls always in flight. */
export async function throughput(path) {
  let next = 0;
  const start = performance.now();
  const worker = async () => {
    while (next++ < THROUGHPUT_CALLS) await echo(path, 'x');
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return THROUGHPUT_CALLS / ((performance.now() - start) / 1000);
}

/** p50 of a call whose result is 1 MiB of text. */
export async function bigResult({ client, prefix }) {
  const samples = [];
  for (let i = 0; i < BIG_CALLS + 3; i++) {
    const start = performance.now();
    const result = await client.callTool({ name: `${prefix}big`, arguments: { bytes: BIG_BYTES } });
    if (result.content[0].text.length !== BIG_BYTES) throw new Error('short result');
    if (i >= 3) samples.push(performance.now() - start);
  }
  return percentile(sortedCopy(samples), 50);
}

/**
 * Head-of-line: `SLOW_CALLS` calls that sleep `SLOW_MS` are sent, and quick echo calls are made
 * one after another until they have all answered; p50 and max of the quick calls (`HOL_REPEATS`
 * times, the samples pooled). A quick call must never wait for a slow one.
 */
export async function headOfLine(path) {
  const samples = [];
  for (let repeat = 0; repeat < HOL_REPEATS; repeat++) {
    let slowDone = false;
    const slow = Promise.all(
      Array.from({ length: SLOW_CALLS }, () => path.client.callTool({ name: `${path.prefix}sleep`, arguments: { ms: SLOW_MS } })),
    ).then(() => (slowDone = true));
    while (!slowDone) {
      const start = performance.now();
      await echo(path, 'x');
      samples.push(performance.now() - start);
    }
    await slow;
  }
  const sorted = sortedCopy(samples);
  return { p50: percentile(sorted, 50), max: sorted[sorted.length - 1], quickCalls: samples.length };
}
