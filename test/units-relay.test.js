// The per-call path's pure parts on their own (issue 15), beside the end-to-end tests that run
// them in a real gateway: an answer's id found in its text, the one timer for every call's
// deadline (on a clock the test moves), the HTTP relay's headers and how it reads an answer,
// and the relay passing answers on as text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Writable } from 'node:stream';
import { readRawAnswer } from '../dist/gateway/rawAnswer.js';
import { LineMessageBuffer } from '../dist/shared/lineMessageBuffer.js';
import { LineWriter } from '../dist/shared/lineWriter.js';
import { Deadlines } from '../dist/shared/deadlines.js';
import { headerValue, mediaType, relayHeaders, toFetchError } from '../dist/downstream/httpRelayParts.js';
import { networkError } from '../dist/downstream/downstreamFailures.js';
import { CallRelay } from '../dist/gateway/callRelay.js';
import { Logger } from '../dist/log/logger.js';

// --- An answer's id, found in its text ----------------------------------------------------

/** A line as the client receives it: a string, or the pieces it is written in, joined. */
const joined = (line) =>
  typeof line === 'string'
    ? line
    : Buffer.concat(line.map((piece) => (typeof piece === 'string' ? Buffer.from(piece) : piece))).toString('utf8');

const tsLayout = (id, result = '{"content":[{"type":"text","text":"a:x"}]}') => `{"result":${result},"jsonrpc":"2.0","id":"${id}"}`;
const pyLayout = (id, result = '{"content":[{"type":"text","text":"a:x"}]}') => `{"jsonrpc":"2.0","id":"${id}","result":${result}}`;

test("an answer's id is found in both SDKs' layouts, and swapping it changes nothing else", () => {
  for (const text of [tsLayout('gw-12'), pyLayout('gw-12')]) {
    const answer = readRawAnswer(text);
    assert.equal(answer.id, 'gw-12', text);
    for (const id of [7, 'client-1', 'with "quotes"']) assert.deepEqual(JSON.parse(joined(answer.withId(id))), { ...JSON.parse(text), id });
  }
});

test("a nested id, an error, a request, whitespace or an id that is not the gateway's is not read as an answer", () => {
  const notAnswers = {
    'the id of a nested object': '{"result":{"content":[],"x":{"id":"gw-1"}},"jsonrpc":"2.0","id":"up"}',
    'the id not last': tsLayout('gw-1').replace(/\}$/, ',"x":1}'),
    'nested, at the end': '{"result":{"a":{"jsonrpc":"2.0","id":"gw-1"}}}',
    'an error (TypeScript layout)': '{"jsonrpc":"2.0","id":"gw-1","error":{"code":-32603,"message":"x"}}',
    'an error (id last)': '{"error":{"code":1,"message":"x"},"jsonrpc":"2.0","id":"gw-1"}',
    'a request': '{"jsonrpc":"2.0","id":"gw-1","method":"ping"}',
    'a notification naming an id': '{"jsonrpc":"2.0","method":"x","params":{"id":"gw-1"}}',
    'pretty-printed': '{\n  "result": {},\n  "jsonrpc": "2.0",\n  "id": "gw-1"\n}',
    'a client id': tsLayout('client-1'),
    'a number id': '{"result":{},"jsonrpc":"2.0","id":1}',
  };
  for (const [what, text] of Object.entries(notAnswers)) assert.equal(readRawAnswer(text), undefined, what);
});

/** `text` as the pieces a pipe might deliver it in: cut at every `size` bytes. */
const pieces = (text, size) => {
  const bytes = Buffer.from(text);
  return Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size));
};

test('an answer still in the pieces it arrived in is read the same, its id found across pieces, and rewritten without joining them', () => {
  for (const text of [tsLayout('gw-12', '{"text":"héllo ✓"}'), pyLayout('gw-12', '{"text":"héllo ✓"}')]) {
    for (const size of [1, 3, 7, 1000]) {
      const parts = pieces(text, size);
      const answer = readRawAnswer(parts);
      assert.equal(answer.id, 'gw-12', `${text} in pieces of ${size}`);
      const rewritten = answer.withId('up-1');
      const inside = (piece) =>
        parts.some(
          (part) =>
            piece.buffer === part.buffer &&
            piece.byteOffset >= part.byteOffset &&
            piece.byteOffset + piece.length <= part.byteOffset + part.length,
        );
      assert.ok(rewritten.filter((piece) => typeof piece !== 'string').every(inside), 'the bytes are the ones that arrived, not copies');
      assert.deepEqual(JSON.parse(joined(rewritten)), { ...JSON.parse(text), id: 'up-1' });
    }
  }
  assert.equal(readRawAnswer(pieces('{"jsonrpc":"2.0","id":"gw-1","error":{"code":1,"message":"x"}}', 5)), undefined);
});

test('the line buffer hands each line to the raw handler in the pieces it arrived in, a CRLF line without its CR; what the handler leaves is parsed', () => {
  const buffer = new LineMessageBuffer();
  const seen = [];
  buffer.rawLineHandler = (parts) => {
    seen.push(Buffer.concat(parts).toString());
    return Buffer.concat(parts).includes('"raw"');
  };
  const lines = `{"jsonrpc":"2.0","method":"raw"}\r\n{"jsonrpc":"2.0","method":"parsed"}\n\n`;
  for (const piece of pieces(lines, 4)) buffer.append(piece);
  assert.deepEqual(buffer.readMessage(), { jsonrpc: '2.0', method: 'parsed' });
  assert.equal(buffer.readMessage(), null);
  assert.deepEqual(seen, ['{"jsonrpc":"2.0","method":"raw"}', '{"jsonrpc":"2.0","method":"parsed"}', '']);
});

test('lines written in one turn of the event loop leave in one write, in order; a line in pieces is not joined first', async () => {
  const writes = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      writes.push([chunk.toString()]);
      done();
    },
    writev(chunks, done) {
      writes.push(chunks.map(({ chunk }) => chunk.toString()));
      done();
    },
  });
  const writer = new LineWriter(stream);
  writer.write('{"a":1}');
  writer.write([Buffer.from('{"b"'), Buffer.from(':2}')]);
  writer.write('{"c":3}');
  assert.deepEqual(writes, [], 'nothing leaves before the turn ends');
  await new Promise((resolve) => process.nextTick(resolve));
  assert.deepEqual(writes, [['{"a":1}\n', '{"b"', ':2}', '\n', '{"c":3}\n']]);
  writer.write('{"d":4}');
  await new Promise((resolve) => process.nextTick(resolve));
  assert.equal(writes.length, 2, 'the next turn has its own write');
});

// --- One timer for every deadline ---------------------------------------------------------

/** A clock the test moves, counting the timers set on it. */
function testClock() {
  const clock = {
    time: 0,
    timers: new Set(),
    armed: 0,
    now: () => clock.time,
    setTimeout(fire, ms) {
      const timer = { fire, at: clock.time + ms };
      clock.timers.add(timer);
      clock.armed++;
      return timer;
    },
    clearTimeout: (timer) => clock.timers.delete(timer),
    advance(ms) {
      const until = clock.time + ms;
      for (;;) {
        const next = [...clock.timers].filter((timer) => timer.at <= until).sort((a, b) => a.at - b.at)[0];
        if (!next) break;
        clock.time = next.at;
        clock.timers.delete(next);
        next.fire();
      }
      clock.time = until;
    },
  };
  return clock;
}

test('deadlines: each key expires at its time, once; a key set again starts over; a deleted key never expires', () => {
  const clock = testClock();
  const expired = [];
  const deadlines = new Deadlines((key) => expired.push([key, clock.time]), clock);
  deadlines.set('a', 100);
  deadlines.set('b', 100);
  clock.advance(50);
  deadlines.set('c', 100);
  deadlines.set('a', 100); // progress: again from now
  deadlines.set('d', 30);
  deadlines.delete('d');
  clock.advance(500);
  assert.deepEqual(expired, [
    ['b', 100],
    ['a', 150],
    ['c', 150],
  ]);
  assert.equal(deadlines.has('a'), false);
});

test('deadlines: a thousand calls, together or one at a time, arm a single timer, not one each', () => {
  const clock = testClock();
  const deadlines = new Deadlines(() => {}, clock);
  for (let i = 0; i < 1000; i++) {
    deadlines.set(i, 60_000);
    if (i % 2) deadlines.delete(i);
    clock.advance(1);
  }
  assert.equal(clock.armed, 1);
  assert.equal(clock.timers.size, 1);
  for (let i = 0; i < 1000; i += 2) deadlines.delete(i);
  for (let i = 0; i < 1000; i++) {
    deadlines.set('one at a time', 60_000);
    deadlines.delete('one at a time');
  }
  assert.equal(clock.armed, 1, 'nor do calls one at a time');
  clock.advance(60_000);
  assert.equal(clock.timers.size, 0, 'none left armed once it has fired with nothing pending');
});

// --- The HTTP relay's request and answer --------------------------------------------------

test("the HTTP relay's headers: session and protocol version, configured headers over them in any case, then the spec's Accept and Content-Type, then the token", () => {
  const session = { sessionId: 's-1', protocolVersion: '2025-06-18' };
  assert.deepEqual(relayHeaders(session, { 'X-Api-Key': 'k', 'Mcp-Session-Id': 'mine', Accept: 'text/plain' }, 'tok'), {
    'user-agent': 'undici',
    'accept-encoding': 'identity',
    'mcp-session-id': 'mine',
    'mcp-protocol-version': '2025-06-18',
    'x-api-key': 'k',
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    authorization: 'Bearer tok',
  });
  const bare = relayHeaders({}, { Authorization: 'Basic configured' });
  assert.equal(bare.authorization, 'Basic configured', 'with no token, a configured Authorization stays');
  assert.equal('mcp-session-id' in bare, false);
});

test("an answer's headers are read as fetch reads them", () => {
  assert.equal(mediaType('Text/Event-Stream; charset=utf-8'), 'text/event-stream');
  assert.equal(mediaType(['application/json']), 'application/json');
  assert.equal(mediaType(undefined), undefined);
  assert.equal(headerValue(['Bearer error="insufficient_scope"', 'Basic']), 'Bearer error="insufficient_scope", Basic');
  assert.equal(headerValue(undefined), null);
});

test('a request that got no answer fails as fetch fails, so it reads as the server gone away; other errors stay as they are', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
  const shaped = toFetchError(refused);
  assert.ok(shaped instanceof TypeError);
  assert.equal(networkError(shaped), shaped);
  const other = new Error('not a network failure');
  assert.equal(toFetchError(other), other);
  assert.equal(networkError(toFetchError(other)), undefined);
});

// --- The relay passes answers on as text --------------------------------------------------

function relayWithRawLines() {
  const server = {
    name: 'a',
    state: { status: 'ready' },
    config: {},
    sent: [],
    send(message, hold) {
      this.sent.push({ message, hold });
      return new Promise(() => {});
    },
  };
  const [, gatewaySide] = InMemoryTransport.createLinkedPair();
  const lines = [];
  const route = (name) => (name.startsWith('a__') ? { server, tool: name.slice(3) } : undefined);
  const relay = new CallRelay(gatewaySide, route, new Logger({ level: 'error' }), (line) => lines.push(line), undefined, testClock());
  return { relay, server, lines };
}

test("a small answer in either SDK's layout goes to the client as text with the client's id; any other is parsed and written once", () => {
  const { relay, server, lines } = relayWithRawLines();
  for (const id of [1, 2, 3]) relay.fromClient({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'a__echo', arguments: {} } });
  assert.equal(relay.fromServerRawLine(server, tsLayout('gw-1')), true);
  assert.equal(relay.fromServerRawLine(server, pyLayout('gw-2')), true);
  const error = '{"jsonrpc":"2.0","id":"gw-3","error":{"code":-32603,"message":"it broke"}}';
  assert.equal(relay.fromServerRawLine(server, error), false, 'an error is parsed (its message names the server)');
  assert.equal(relay.fromServer(server, JSON.parse(error)), true);
  assert.deepEqual(
    lines.map((line) => JSON.parse(joined(line))),
    [
      { ...JSON.parse(tsLayout('gw-1')), id: 1 },
      { ...JSON.parse(pyLayout('gw-2')), id: 2 },
      { jsonrpc: '2.0', id: 3, error: { code: -32603, message: 'a: it broke' } },
    ],
  );
  assert.equal(relay.fromServerRawLine(server, tsLayout('gw-1')), false, 'answered once');
});

test("a call's step-up wait is ended by a signal made only when it is held, aborted when the call is over", () => {
  const { relay, server } = relayWithRawLines();
  relay.fromClient({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'a__echo', arguments: {} } });
  relay.fromClient({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'a__echo', arguments: {} } });
  const [held, finished] = server.sent.map((sent) => sent.hold);
  const signal = held.signal;
  assert.equal(signal.aborted, false);
  relay.fromServerRawLine(server, tsLayout('gw-1'));
  assert.equal(signal.aborted, true, 'the call was answered');
  relay.fromClient({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 2 } });
  assert.equal(finished.signal.aborted, true, 'a call over before its wait begins gets an aborted signal');
});
