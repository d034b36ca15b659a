import { randomBytes } from 'node:crypto';
import type { Logger } from '../log/logger.js';
import { sanitize } from './sanitizeError.js';

export type FlowKind = 'login' | 'refresh';

/**
 * The log of one server's OAuth side: while a flow (a login or a refresh) runs, every line
 * carries `[<server> <kind> <id>]`, and an error the flow ends with says `[<kind> <id>]`, so a
 * user can tell which lines and which failure belong together.
 */
export class FlowLog {
  private flow?: { label: string; log: Logger };

  constructor(private readonly base: Logger) {}

  /** The logger for what happens now: the running flow's, else the server's. */
  get log(): Logger {
    return this.flow?.log ?? this.base;
  }

  async run<T>(kind: FlowKind, fn: () => Promise<T>): Promise<T> {
    const previous = this.flow;
    const label = `${kind} ${randomBytes(3).toString('hex')}`;
    this.flow = { label, log: this.base.child(label) };
    try {
      return await fn();
    } catch (error) {
      const clean = sanitize(error);
      if (!clean.message.includes(`[${label}]`)) clean.message += ` [${label}]`;
      throw clean;
    } finally {
      this.flow = previous;
    }
  }
}
