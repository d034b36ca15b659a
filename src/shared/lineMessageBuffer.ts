import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

/**
 * Splits a byte stream into newline-delimited JSON-RPC messages: a drop-in for the SDK's
 * stdio ReadBuffer, used on the gateway's own pipes (upstream stdin, downstream stdout).
 *
 * Why: the SDK's ReadBuffer validates every message against the full JSON-RPC union schema
 * and its Protocol then checks the message's kind again with the same schemas. On the
 * per-call path the gateway would do that work twice for each message it relays; here a
 * line is parsed once and only its envelope is checked (Protocol's dispatch rejects
 * anything that is not a valid request, notification or response). Chunks are also kept
 * in a list until a newline arrives, so a 1 MiB line is copied once, not once per chunk, and
 * not at all when it is passed on as it is (see `rawLineHandler`).
 */
export class LineMessageBuffer {
  private chunks: Buffer[] = [];
  /** Bytes held (lines not read yet). */
  private size = 0;
  /** After a line over the cap: the rest of it is dropped as it arrives, up to its newline. */
  private skipping = false;

  /** A line may hold at most this many bytes (the SDK's ReadBuffer allows the same, 10 MiB). */
  constructor(private readonly maxLineBytes = MAX_LINE_BYTES) {}
  /** Chunks at the front already searched for a newline without one: a long line is scanned once, not once per chunk. */
  private scanned = 0;

  /**
   * Sees each line before it is parsed, as the pieces it arrived in (RawText); when it returns
   * true the line was forwarded as it is (an answer to a relayed call, see
   * CallRelay.fromServerRawLine) and is neither decoded nor parsed here.
   */
  rawLineHandler?: (line: readonly Buffer[]) => boolean;

  /**
   * Takes the next chunk. A line longer than the cap is dropped whole (the part held now, and
   * the rest as it arrives) and reported by throwing LineTooLongError once; the lines after it
   * are read as usual.
   */
  append(chunk: Buffer): void {
    if (this.skipping) {
      const end = chunk.indexOf(0x0a);
      if (end === -1) return;
      this.skipping = false;
      chunk = chunk.subarray(end + 1);
    }
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.size > this.maxLineBytes && !this.chunks.slice(this.scanned).some((held) => held.includes(0x0a))) {
      this.clear();
      this.skipping = true;
      throw new LineTooLongError(this.maxLineBytes);
    }
  }

  readMessage(): JSONRPCMessage | null {
    for (;;) {
      const parts = this.nextLine();
      if (parts === null) return null;
      if (this.rawLineHandler?.(parts)) continue;
      const line = (parts.length === 1 ? parts[0]! : Buffer.concat(parts)).toString('utf8');
      if (!line.trim()) continue;
      const message = JSON.parse(line) as { jsonrpc?: unknown };
      if (typeof message !== 'object' || message === null || message.jsonrpc !== '2.0') {
        throw new Error(`not a JSON-RPC 2.0 message: ${line.slice(0, 200)}`);
      }
      return message as JSONRPCMessage;
    }
  }

  /** The next whole line, as the pieces of the chunks it arrived in (not copied), without its newline or a `\r` before it. */
  private nextLine(): Buffer[] | null {
    const chunks = this.chunks;
    let index = -1;
    let chunkIndex = this.scanned;
    for (; chunkIndex < chunks.length; chunkIndex++) {
      index = chunks[chunkIndex]!.indexOf(0x0a);
      if (index !== -1) break;
    }
    if (index === -1) {
      this.scanned = chunks.length;
      return null;
    }
    this.scanned = 0;
    const head = chunks[chunkIndex]!;
    const parts = chunks.slice(0, chunkIndex);
    parts.push(head.subarray(0, index));
    const rest = head.subarray(index + 1);
    this.chunks = rest.length ? [rest, ...chunks.slice(chunkIndex + 1)] : chunks.slice(chunkIndex + 1);
    for (const part of parts) this.size -= part.length;
    this.size -= 1;
    return withoutCarriageReturn(parts.filter((part) => part.length > 0));
  }

  clear(): void {
    this.chunks = [];
    this.scanned = 0;
    this.size = 0;
  }
}

export const MAX_LINE_BYTES = 10 * 1024 * 1024;

function withoutCarriageReturn(parts: Buffer[]): Buffer[] {
  const last = parts[parts.length - 1];
  if (last?.[last.length - 1] === 0x0d) parts[parts.length - 1] = last.subarray(0, -1);
  return parts;
}

export class LineTooLongError extends Error {
  constructor(readonly maxBytes: number) {
    super(
      `a message longer than ${Math.round(maxBytes / 1024 / 1024)} MiB arrived and was dropped (the limit is the MCP SDK's own); the messages after it are read as usual`,
    );
    this.name = new.target.name;
  }
}
