/**
 * A message's text before it is parsed: a string (an HTTP server's answer, decoded for the SSE
 * parser), or the pieces of one line as read from a pipe, not decoded (a large answer is then
 * never decoded and encoded again on its way through). The helpers read and cut its ends,
 * where the patterns looked for are ASCII: for bytes, one character per byte (latin1).
 */
export type RawText = string | readonly Buffer[];

export function rawLength(text: RawText): number {
  if (typeof text === 'string') return text.length;
  let length = 0;
  for (const part of text) length += part.length;
  return length;
}

/** The first `n` characters (bytes). */
export function headOf(text: RawText, n: number): string {
  if (typeof text === 'string') return text.slice(0, n);
  let head = '';
  for (const part of text) {
    head += part.toString('latin1', 0, n - head.length);
    if (head.length >= n) break;
  }
  return head;
}

/** The last `n` characters (bytes). */
export function tailOf(text: RawText, n: number): string {
  if (typeof text === 'string') return text.length > n ? text.slice(-n) : text;
  let tail = '';
  for (let i = text.length - 1; i >= 0 && tail.length < n; i--) {
    const part = text[i]!;
    tail = part.toString('latin1', Math.max(0, part.length - (n - tail.length))) + tail;
  }
  return tail;
}

/** Without its first `start` and last `end` characters (bytes). */
export function cut(text: RawText, start: number, end: number): RawText {
  if (typeof text === 'string') return text.slice(start, text.length - end);
  const parts: Buffer[] = [];
  let skip = start;
  let keep = rawLength(text) - start - end;
  for (const part of text) {
    if (keep <= 0) break;
    const from = Math.min(skip, part.length);
    skip -= from;
    const piece = part.subarray(from, from + keep);
    keep -= piece.length;
    if (piece.length) parts.push(piece);
  }
  return parts;
}

/** A line to write in pieces, each as it is (LineWriter): strings and bytes are not joined first. */
export type LinePieces = readonly (string | Uint8Array)[];

/** `before` + text + `after`, in pieces: a large text is neither copied into a new string nor decoded. */
export function wrap(before: string, text: RawText, after: string): LinePieces {
  const pieces: (string | Uint8Array)[] = before ? [before] : [];
  if (typeof text === 'string') pieces.push(text);
  else pieces.push(...text);
  if (after) pieces.push(after);
  return pieces;
}
