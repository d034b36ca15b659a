// The gateway's own stdio client transport (processGroupTransport.ts) with a real fixture
// server: what it does with a message over the line limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trackedGateways, stdioServer, toolNames, waitFor } from './helpers/gatewayProcess.js';

const gateway = trackedGateways();
const text = (result) => result.content.map((c) => c.text).join('');

test('a message over 10 MiB from a stdio server is dropped with a warning; the call it answered times out; the gateway and the server go on', async () => {
  const gw = await gateway({ mcpServers: { a: { ...stdioServer('a'), timeout: 3000 } } });
  await waitFor(async () => (await toolNames(gw.client)).includes('a__big'), { what: 'a ready' });
  const huge = await gw.client.callTool({ name: 'a__big', arguments: { bytes: 11 * 1024 * 1024 } });
  assert.equal(huge.isError, true);
  assert.match(text(huge), /Server "a" could not complete big: timed out after 3000 ms/);
  assert.match(gw.stderr(), /\[a\] warn: a message longer than 10 MiB arrived and was dropped .*; a call it answered fails at its timeout/);
  assert.equal(text(await gw.client.callTool({ name: 'a__echo', arguments: { text: 'after' } })), 'a:after');
  assert.equal(gw.child.exitCode, null);
});
