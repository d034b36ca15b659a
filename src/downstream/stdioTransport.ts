import { createInterface } from 'node:readline';
import type { StdioServerConfig } from '../config/types.js';
import type { Logger } from '../log/logger.js';
import { LineTooLongError } from '../shared/lineMessageBuffer.js';
import { ProcessGroupTransport } from './processGroupTransport.js';
import { meaningfulStderrLine } from './stderrSummary.js';

const KEPT_LINES = 20;

/** Remembers the last lines a child wrote to stderr, to explain why it failed. */
export class StderrTail {
  private lines: string[] = [];
  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > KEPT_LINES) this.lines.shift();
  }
  last(): string | undefined {
    return this.lines[this.lines.length - 1];
  }
  /** The line that says what went wrong (an npm 404, a Python exception…), else the last one. */
  meaningful(): string | undefined {
    return meaningfulStderrLine(this.lines);
  }
}

/**
 * Spawns a stdio server with its `env` over the gateway's own environment, in its own process
 * group (see processGroupTransport.ts). Each line the child writes to stderr goes to the log
 * under the server's name.
 */
export function createStdioTransport(config: StdioServerConfig, log: Logger, tail: StderrTail): ProcessGroupTransport {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
  Object.assign(env, config.env);
  const transport = new ProcessGroupTransport({ command: config.command, args: config.args, env, cwd: config.cwd });
  // Set before the client connects, which chains its own handler after this one.
  transport.onerror = (error) => {
    if (error instanceof LineTooLongError) log.warn(`${error.message}; a call it answered fails at its timeout`);
  };
  createInterface({ input: transport.stderr, crlfDelay: Infinity }).on('line', (line) => {
    tail.push(line);
    log.info(line);
  });
  return transport;
}
