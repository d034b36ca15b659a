import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, MessageExtraInfo } from '@modelcontextprotocol/sdk/types.js';

/**
 * A transport read from before anything is connected to it: what arrives is held (and the
 * first message offered as `firstMessage`) until a server connects, then handed to it in
 * order. A bridge reads its client's `initialize` this way, to start its server with what that
 * client can do, and answers it once the server has said what it can do.
 */
export class HeldTransport implements Transport {
  onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  readonly firstMessage: Promise<JSONRPCMessage>;
  private readonly held: Array<[JSONRPCMessage, MessageExtraInfo | undefined]> = [];
  private connected = false;

  constructor(private readonly inner: Transport) {
    let first!: (message: JSONRPCMessage) => void;
    this.firstMessage = new Promise((resolve) => (first = resolve));
    inner.onmessage = (message, extra) => {
      if (this.connected && this.onmessage) return this.onmessage(message, extra);
      this.held.push([message, extra]);
      first(message);
    };
    inner.onclose = () => this.onclose?.();
    inner.onerror = (error) => this.onerror?.(error);
  }

  /** Starts reading. */
  async open(): Promise<void> {
    await this.inner.start();
  }

  /** A server connected: what was held goes to it, after the connection is complete. */
  start(): Promise<void> {
    this.connected = true;
    setImmediate(() => {
      for (const [message, extra] of this.held.splice(0)) this.onmessage?.(message, extra);
    });
    return Promise.resolve();
  }

  send(...args: Parameters<Transport['send']>): Promise<void> {
    return this.inner.send(...args);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
