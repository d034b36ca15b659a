import type { EventStore } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

/** How many messages of a session are kept for a client that reconnects, and for how long. */
export const KEPT_EVENTS = 100;
export const KEPT_EVENTS_MS = 5 * 60_000;

interface StoredEvent {
  id: number;
  streamId: string;
  message: JSONRPCMessage;
  at: number;
}

/**
 * The messages of one session's SSE streams, each with an event id, so a client whose stream
 * broke can reconnect with `Last-Event-ID` and get what it missed (resumability, MCP
 * Streamable HTTP: https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#resumability-and-redelivery).
 * In memory and bounded: the last KEPT_EVENTS messages of the last KEPT_EVENTS_MS.
 */
export class SessionEventStore implements EventStore {
  private readonly events: StoredEvent[] = [];
  private last = 0;

  constructor(private readonly now: () => number = Date.now) {}

  storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    const at = this.now();
    this.events.push({ id: ++this.last, streamId, message, at });
    while (this.events.length > KEPT_EVENTS || (this.events.length && this.events[0]!.at < at - KEPT_EVENTS_MS)) this.events.shift();
    return Promise.resolve(String(this.last));
  }

  getStreamIdForEventId(eventId: string): Promise<string | undefined> {
    return Promise.resolve(this.find(eventId)?.streamId);
  }

  async replayEventsAfter(
    lastEventId: string,
    { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> },
  ): Promise<string> {
    const from = this.find(lastEventId);
    // An id no longer (or never) kept: nothing can be replayed; the SDK then answers the client with an error.
    if (!from) return '';
    for (const event of this.events) {
      // Priming events (empty messages) carry only an id for the client to resume from.
      if (event.id > from.id && event.streamId === from.streamId && 'jsonrpc' in event.message) await send(String(event.id), event.message);
    }
    return from.streamId;
  }

  private find(eventId: string): StoredEvent | undefined {
    const id = Number(eventId);
    return Number.isInteger(id) ? this.events.find((event) => event.id === id) : undefined;
  }
}
