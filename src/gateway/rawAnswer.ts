import type { RequestId } from '@modelcontextprotocol/sdk/types.js';
import { cut, headOf, tailOf, wrap, type LinePieces, type RawText } from '../shared/rawText.js';

/**
 * A server's answer to a relayed call, read as text: its id is found, not parsed, so the
 * answer goes to the client with only the id swapped, however large its result.
 *
 * Two layouts are recognized, the ones MCP SDKs write for a success response:
 * - `{"result":…,"jsonrpc":"2.0","id":"gw-7"}` (the TypeScript SDK): the id is the last member
 *   of the top-level object, since the text ends right after it with one brace (a nested
 *   object's member would be followed by the brace of every object around it);
 * - `{"jsonrpc":"2.0","id":"gw-7","result":…}` (the Python SDK): the first two members.
 * The text must also begin with `{"result":` (first layout) or hold `"result":` right after the
 * id (second), so it is a result and not an error; an error, any other layout, whitespace
 * between members or an id that is not the gateway's (`gw-N`) is not recognized, and the
 * message is parsed as usual. Nothing else is checked: the client validates what it receives,
 * as it would from the server itself.
 */
export interface RawAnswer {
  /** The gateway's id of the call it answers. */
  id: string;
  /** The same text with the client's id in place of the gateway's. */
  withId(id: RequestId): LinePieces;
}

const ID_LAST = /,"id":"(gw-\d+)"\}$/;
const ID_FIRST = /^\{"jsonrpc":"2\.0","id":"(gw-\d+)","result":/;
/** How much of the ends of the text the patterns need (their longest matches). */
const TAIL_CHARS = 40;
const HEAD_CHARS = 60;

export function readRawAnswer(text: RawText): RawAnswer | undefined {
  const head = headOf(text, HEAD_CHARS);
  if (head.startsWith('{"result":')) {
    const tail = ID_LAST.exec(tailOf(text, TAIL_CHARS));
    if (!tail) return undefined;
    const rest = cut(text, 0, tail[0].length);
    return { id: tail[1]!, withId: (id) => wrap('', rest, `,"id":${JSON.stringify(id)}}`) };
  }
  const first = ID_FIRST.exec(head);
  if (!first || !tailOf(text, 1).endsWith('}')) return undefined;
  const rest = cut(text, first[0].length, 0);
  return { id: first[1]!, withId: (id) => wrap(`{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":`, rest, '') };
}
