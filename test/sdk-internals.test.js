// The SDK internals the fast path relies on are checked at start-up, and the line buffer that
// replaces the SDK's ReadBuffer keeps its size limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Protocol } from '@modelcontextprotocol/sdk/shared/protocol.js';
import { assertSdkInternals, SdkInternalsError } from '../dist/shared/sdkInternals.js';
import { LineMessageBuffer, LineTooLongError } from '../dist/shared/lineMessageBuffer.js';

const line = (object) => Buffer.from(`${JSON.stringify(object)}\n`);
const ping = (id) => ({ jsonrpc: '2.0', id, method: 'ping' });

test('the installed SDK has what the fast path relies on', () => {
  assert.doesNotThrow(() => assertSdkInternals());
});

test('an SDK without what the fast path relies on is refused at start, naming the version the gateway was built against', () => {
  const original = Protocol.prototype.setRequestHandler;
  delete Protocol.prototype.setRequestHandler;
  try {
    assert.throws(
      () => assertSdkInternals(),
      (error) => error instanceof SdkInternalsError && /Protocol\.prototype\.setRequestHandler.*1\.32\.2.*npm ci/.test(error.message),
    );
  } finally {
    Protocol.prototype.setRequestHandler = original;
  }
});

test('a line over the limit is dropped with a clear error, and the lines after it are read as usual', () => {
  const buffer = new LineMessageBuffer(100);
  buffer.append(line(ping(1)));
  assert.deepEqual(buffer.readMessage(), ping(1));
  assert.throws(
    () => buffer.append(Buffer.from(`{"jsonrpc":"2.0","id":2,"result":"${'x'.repeat(120)}`)),
    (error) => error instanceof LineTooLongError && /longer than/.test(error.message),
  );
  buffer.append(Buffer.from('x'.repeat(500))); // The rest of the long line, still dropped.
  buffer.append(Buffer.concat([Buffer.from('xx"}\n'), line(ping(3))]));
  assert.deepEqual(buffer.readMessage(), ping(3));
  assert.equal(buffer.readMessage(), null);
});

test('many lines below the limit that add up to more than it are all read', () => {
  const buffer = new LineMessageBuffer(100);
  const chunk = Buffer.concat(Array.from({ length: 10 }, (_, i) => line(ping(i))));
  assert.ok(chunk.length > 100);
  buffer.append(chunk);
  for (let i = 0; i < 10; i++) assert.deepEqual(buffer.readMessage(), ping(i));
});
