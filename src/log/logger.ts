import { appendFileSync } from 'node:fs';
import { redact } from './redact.js';

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LogOptions {
  level?: LogLevel;
  /** Also append every line to this file. */
  file?: string;
  /** Where lines go; stderr by default. Never stdout: in `serve`, stdout is the protocol channel. */
  sink?: (line: string) => void;
}

/**
 * Leveled logger writing to stderr (and optionally a file), redacting secrets.
 * `child(prefix)` gives a logger whose lines carry a prefix such as the server name.
 */
export class Logger {
  private levelRank: number;
  private readonly file?: string;
  private readonly sink: (line: string) => void;

  constructor(
    options: LogOptions = {},
    private readonly prefix = '',
  ) {
    this.levelRank = LOG_LEVELS.indexOf(options.level ?? 'info');
    this.file = options.file;
    this.sink = options.sink ?? ((line) => process.stderr.write(line));
  }

  setLevel(level: LogLevel): void {
    this.levelRank = LOG_LEVELS.indexOf(level);
  }

  enabled(level: LogLevel): boolean {
    return LOG_LEVELS.indexOf(level) <= this.levelRank;
  }

  child(prefix: string): Logger {
    const child = Object.create(this) as Logger;
    (child as unknown as { prefix: string }).prefix = this.prefix ? `${this.prefix} ${prefix}` : prefix;
    return child;
  }

  error(message: string): void {
    this.write('error', message);
  }
  warn(message: string): void {
    this.write('warn', message);
  }
  info(message: string): void {
    this.write('info', message);
  }
  debug(message: string | (() => string)): void {
    if (this.enabled('debug')) this.write('debug', typeof message === 'function' ? message() : message);
  }

  private write(level: LogLevel, message: string): void {
    if (!this.enabled(level)) return;
    const tag = level === 'info' ? '' : `${level}: `;
    const prefix = this.prefix ? `[${this.prefix}] ` : '';
    const line = `${prefix}${tag}${redact(message)}\n`;
    this.sink(line);
    if (this.file) {
      try {
        appendFileSync(this.file, `${new Date().toISOString()} ${line}`, { mode: 0o600 });
      } catch {
        // A broken log file must never break the gateway.
      }
    }
  }
}

/** The message of any thrown value, for log lines and user-facing errors. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
