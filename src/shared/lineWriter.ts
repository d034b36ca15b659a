import type { Writable } from 'node:stream';
import type { LinePieces } from './rawText.js';

/**
 * Newline-delimited messages to a pipe, written together: the lines written in one turn of the
 * event loop (the calls in one chunk from the client, the answers in one chunk from a server)
 * leave in one writev as the turn ends, not in a write each. The stream is corked at the first
 * line and uncorked on the next tick, as Node's documentation suggests for this; order is kept,
 * also with other writes to the stream meanwhile (they wait in the same cork). A line given in
 * pieces (LinePieces) is written as they are, without joining them.
 */
export class LineWriter {
  private corked = false;

  constructor(private readonly stream: Writable) {}

  /** False when the stream's buffer is full (wait for 'drain'), as `write`. */
  write(line: string | LinePieces): boolean {
    if (!this.corked) {
      this.corked = true;
      this.stream.cork();
      process.nextTick(() => {
        this.corked = false;
        this.stream.uncork();
      });
    }
    if (typeof line === 'string') return this.stream.write(`${line}\n`);
    for (const part of line) this.stream.write(part);
    return this.stream.write('\n');
  }
}
