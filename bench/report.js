// Formatting: medians with their spread (min–max) over the rounds, and the ratios the aims are stated in.
import { BIG_CALLS, IN_FLIGHT, LATENCY_CALLS, SLOW_CALLS, SLOW_MS, THROUGHPUT_CALLS } from './measures.js';
import { STARTUP_RUNS } from './startup.js';

export const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const ms = (v) => `${v.toFixed(2)} ms`;
const fixed = (digits) => (v) => v.toFixed(digits);
const signed = (value) => `${value < 0 ? '−' : '+'}${Math.abs(value).toFixed(0)}`;
const spread = (values) => `${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)}`;

/** "median (min–max)" of one measure over the rounds. */
function cell(values, format) {
  if (values.length === 1) return format(values[0]);
  return `${format(median(values))} (${format(Math.min(...values))}–${format(Math.max(...values))})`;
}

const COLUMNS = [
  ['p50 ms', (s) => s.p50, fixed(3)],
  ['p99 ms', (s) => s.p99, fixed(2)],
  [`calls/s, ${IN_FLIGHT} in flight`, (s) => s.throughput, fixed(0)],
  ['1 MiB p50 ms', (s) => s.big, fixed(2)],
  ['HOL p50 ms', (s) => s.holP50, fixed(2)],
  ['HOL max ms', (s) => s.holMax, fixed(1)],
];

/** `rounds`: one { [path]: { p50, p99, throughput, big, holP50, holMax } } per round. */
export function perCallTable(rounds, pathNames) {
  const values = (name, pick) => rounds.map((round) => pick(round[name]));
  const cells = pathNames.map((name) => [name, ...COLUMNS.map(([, pick, format]) => cell(values(name, pick), format))]);
  const header = ['path', ...COLUMNS.map(([title]) => title)];
  const widths = header.map((title, i) => Math.max(title.length, ...cells.map((row) => row[i].length)) + 2);
  const line = (row) => row.map((text, i) => text.padEnd(widths[i])).join('');
  return [
    `per call, median of ${rounds.length} rounds (min–max), paths interleaved in each round:`,
    line(header),
    ...cells.map(line),
    ...ratios(rounds, pathNames),
    `(${LATENCY_CALLS} sequential echo calls, ${THROUGHPUT_CALLS} calls for throughput, ${BIG_CALLS} × 1 MiB, ` +
      `HOL: quick echo calls while ${SLOW_CALLS} calls sleeping ${SLOW_MS} ms are in flight)`,
  ];
}

/** The aims of issue 15, each as the median of the per-round ratio, with its spread. */
function ratios(rounds, pathNames) {
  const has = (name) => pathNames.includes(name);
  const ratio = (title, a, b, pick, aim) => {
    if (!has(a) || !has(b)) return [];
    const per = rounds.map((round) => pick(round[a]) / pick(round[b]));
    const shown = `${median(per).toFixed(2)}× (${Math.min(...per).toFixed(2)}–${Math.max(...per).toFixed(2)})`;
    return [`  ${title.padEnd(44)}${shown.padEnd(22)}aim ${aim}`];
  };
  return [
    'ratios (median of the per-round ratios, min–max):',
    ...ratio('gateway stdio p50 / byte relay p50', 'gateway, stdio server', 'byte relay', (s) => s.p50, '≤ 1.1×'),
    ...ratio('gateway stdio p50 / direct stdio p50', 'gateway, stdio server', 'direct stdio', (s) => s.p50, ''),
    ...ratio('gateway HTTP p50 / direct HTTP p50', 'gateway, HTTP server', 'direct HTTP', (s) => s.p50, '≤ 1.1×'),
    ...ratio('gateway stdio throughput / direct', 'gateway, stdio server', 'direct stdio', (s) => s.throughput, '≥ 1×'),
    ...ratio('gateway HTTP throughput / direct', 'gateway, HTTP server', 'direct HTTP', (s) => s.throughput, '≥ 1×'),
    ...ratio('gateway stdio 1 MiB / direct', 'gateway, stdio server', 'direct stdio', (s) => s.big, '≤ 1.3×'),
    ...ratio('gateway HTTP 1 MiB / direct', 'gateway, HTTP server', 'direct HTTP', (s) => s.big, '≤ 1.3×'),
    ...ratio('gateway stdio HOL max / direct', 'gateway, stdio server', 'direct stdio', (s) => s.holMax, '≤ 1×'),
    ...ratio('gateway HTTP HOL max / direct', 'gateway, HTTP server', 'direct HTTP', (s) => s.holMax, '≤ 1×'),
    ...ratio('before: stdio p50 / byte relay p50', 'before, stdio server', 'byte relay', (s) => s.p50, ''),
    ...ratio('before: HTTP p50 / direct HTTP p50', 'before, HTTP server', 'direct HTTP', (s) => s.p50, ''),
  ];
}

export function startupTable(results) {
  const lines = [
    `first tools/list, complete, after spawn (median of ${STARTUP_RUNS}, min–max in ms): as Claude Desktop lists, once right after initialize`,
    'servers  initialize   servers alone      cold (no cache)           warm (catalog cache)   idle RSS',
  ];
  for (const [count, s] of Object.entries(results)) {
    const alone = median(s.alone);
    lines.push(
      `${String(count).padStart(7)}  ${ms(median(s.initialized)).padEnd(11)}  ${`${ms(alone)}`.padEnd(17)}  ${`${ms(median(s.cold))} (${signed(median(s.cold) - alone)}; ${spread(s.cold)})`.padEnd(24)}  ${`${ms(median(s.warm))} (${spread(s.warm)})`.padEnd(21)}  ${median(s.rss).toFixed(1)} MB`,
    );
  }
  lines.push(
    '(servers alone: the same fixture servers started in parallel by one process, each initialized and listed; cold: + the gateway over them)',
  );
  return lines;
}
