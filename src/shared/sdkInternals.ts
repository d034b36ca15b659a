import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { Protocol } from '@modelcontextprotocol/sdk/shared/protocol.js';
import { LineMessageBuffer } from './lineMessageBuffer.js';

/**
 * Every use of the SDK's internals, in one place. The gateway's per-call fast path goes under
 * the SDK twice, and nowhere else:
 * - the upstream stdio transport's private `_readBuffer` is replaced by a LineMessageBuffer
 *   (the SDK's ReadBuffer validates every message against the whole JSON-RPC schema, which
 *   the relay does not need; see lineMessageBuffer.ts);
 * - `tools/call` is registered through `Protocol.prototype.setRequestHandler`, skipping the
 *   SDK Server's override that validates every result against CallToolResultSchema (the
 *   client at the other end validates it anyway).
 * `assertSdkInternals()` runs at start-up and fails loudly, naming the SDK version this gateway
 * was built and tested against (package.json pins it exactly), when either is not there.
 */
export const SDK_VERSION_TESTED = '1.32.2';

export class SdkInternalsError extends Error {
  constructor(what: string) {
    super(
      `the installed @modelcontextprotocol/sdk lacks ${what}, which this gateway relies on (built and tested against ${SDK_VERSION_TESTED}); ` +
        'install the version package.json pins (npm ci), or report this',
    );
    this.name = new.target.name;
  }
}

/** Checks that what the gateway relies on is there; throws SdkInternalsError otherwise. */
export function assertSdkInternals(): void {
  const buffer = (new StdioServerTransport() as unknown as { _readBuffer?: { append?: unknown; readMessage?: unknown; clear?: unknown } })
    ._readBuffer;
  if (!buffer || typeof buffer.append !== 'function' || typeof buffer.readMessage !== 'function' || typeof buffer.clear !== 'function') {
    throw new SdkInternalsError('StdioServerTransport._readBuffer (append, readMessage, clear)');
  }
  if (typeof Protocol.prototype.setRequestHandler !== 'function' || !(Server.prototype instanceof Protocol)) {
    throw new SdkInternalsError('Protocol.prototype.setRequestHandler as the base of Server');
  }
}

/** Replaces an SDK stdio transport's ReadBuffer (a private field) with a LineMessageBuffer. */
export function useLineMessageBuffer<T extends object>(transport: T): T & { lineBuffer: LineMessageBuffer } {
  const buffer = new LineMessageBuffer();
  (transport as unknown as { _readBuffer: LineMessageBuffer })._readBuffer = buffer;
  return Object.assign(transport, { lineBuffer: buffer });
}

/** Protocol's own `setRequestHandler`, called with a Server as `this`: registration without the Server's result validation. */
export const protocolSetRequestHandler = Protocol.prototype.setRequestHandler;
