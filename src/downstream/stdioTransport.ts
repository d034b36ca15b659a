import { createInterface } from 'node:readline';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { StdioServerConfig } from '../config/types.js';
import type { Logger } from '../log/logger.js';
import type { LineMessageBuffer } from '../shared/lineMessageBuffer.js';
import { useLineMessageBuffer } from '../shared/sdkInternals.js';
import { trackChild, untrackChild } from './childProcesses.js';

/** Remembers the last lines a child wrote to stderr, to explain why it failed. */
export class StderrTail {
  private lines: string[] = [];
  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > 5) this.lines.shift();
  }
  last(): string | undefined {
    return this.lines[this.lines.length - 1];
  }
}

/**
 * Spawns a stdio server with its `env` over the gateway's own environment. Each line the
 * child writes to stderr goes to the log under the server's name.
 */
export function createStdioTransport(
  config: StdioServerConfig,
  log: Logger,
  tail: StderrTail,
): StdioClientTransport & { lineBuffer: LineMessageBuffer } {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
  Object.assign(env, config.env);
  const transport = useLineMessageBuffer(
    new StdioClientTransport({ command: config.command, args: config.args, env, cwd: config.cwd, stderr: 'pipe' }),
  );
  const stderr = transport.stderr;
  if (stderr) {
    createInterface({ input: stderr as unknown as NodeJS.ReadableStream, crlfDelay: Infinity }).on('line', (line) => {
      tail.push(line);
      log.info(line);
    });
  }
  const start = transport.start.bind(transport);
  transport.start = async () => {
    await start();
    const pid = transport.pid;
    trackChild(pid);
    const onclose = transport.onclose;
    transport.onclose = () => {
      untrackChild(pid);
      onclose?.();
    };
  };
  return transport;
}
