/**
 * Which of the last lines a stdio server wrote to stderr says why it failed. The last line
 * is often boilerplate: npm ends with "A complete log of this run can be found in …", Node
 * with its version, a stack trace with frames. Picked, in order:
 * 1. after a Python traceback, its exception line (`ModuleNotFoundError: No module named 'x'`);
 * 2. else the first line that says what went wrong (`404 Not Found - GET …`, `Error: …`,
 *    `error: …`, `not found`, …), else the first that merely looks like an error (`npm error
 *    code E404`), with a `Caused by:` line that follows it;
 * 3. else the last line that is not noise.
 */
export function meaningfulStderrLine(lines: readonly string[]): string | undefined {
  const exception = pythonException(lines);
  if (exception) return exception;
  let best: { index: number; score: number } | undefined;
  lines.forEach((line, index) => {
    const score = isNoise(line) ? 0 : scoreOf(line);
    if (score > (best?.score ?? 0)) best = { index, score };
  });
  if (best) return withCause(lines, best.index);
  const last = lines.findLast((line) => !isNoise(line));
  return last === undefined ? undefined : tidy(last);
}

/** Says what went wrong: a status with its meaning, an exception with its message, a missing thing. */
const TELLING = [
  /\b40[134]\b.*\b(not found|forbidden|unauthorized)\b/i,
  /^[\w.]*(error|exception)\b[^:]*: \S/i,
  /^(npm (error|ERR!) )?(error|fatal)(\[\w+\])?:\s*\S/i,
  /\b(not found|no such file|cannot find|could not find|couldn't find|could not determine|is not in this registry|permission denied|unable to|address already in use)\b/i,
  /\brequest to \S+ failed\b/i,
];
/** Looks like an error, without saying much (`npm error code E404`, `ERROR something`). */
const ERRORISH = [/\b(errors?|err|fatal|failed|failure|exception|denied)\b/i, /\bE(\d{3}|[A-Z]{3,})\b/];
const NOISE = [
  /^\s*$/,
  /^\s+at\s/, // a stack frame
  /A complete log of this run can be found in/i,
  /^npm (error|ERR!)( \d+)?\s*$/, // npm's empty separator lines ("npm error 404")
  /^Node\.js v\d+/,
  /^\s*[\^{}[\](),;]+\s*$/, // a caret under a source line, a lone brace
];

function isNoise(line: string): boolean {
  return NOISE.some((pattern) => pattern.test(line));
}

function scoreOf(line: string): number {
  const text = tidy(line);
  if (TELLING.some((pattern) => pattern.test(text))) return 2;
  return ERRORISH.some((pattern) => pattern.test(text)) ? 1 : 0;
}

/** The exception line of the last Python traceback: the first unindented line after it. */
function pythonException(lines: readonly string[]): string | undefined {
  const start = lines.findLastIndex((line) => line.startsWith('Traceback (most recent call last)'));
  if (start === -1) return undefined;
  const line = lines.slice(start + 1).find((candidate) => candidate.trim() && !/^\s/.test(candidate));
  return line === undefined ? undefined : tidy(line);
}

/** The line, followed by the `Caused by:` line under it if there is one (uv, Rust tools). */
function withCause(lines: readonly string[], index: number): string {
  const next = lines.slice(index + 1).find((line) => line.trim());
  const cause = next && /^\s*caused by:/i.test(next) ? `; ${tidy(next)}` : '';
  return `${tidy(lines[index]!)}${cause}`;
}

/** Without surrounding space or the box-drawing marks uv puts before its messages. */
function tidy(line: string): string {
  return line.trim().replace(/^[×╰│├─▶\s]+/u, '');
}
