// Each stdio server runs in its own process group, and ending a server ends its group: a
// server started through a wrapper (sh -c here; npx and uv run behave alike) whose real
// process ignores stdin EOF and SIGTERM must not outlive the gateway, nor its own removal.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import {
  GATEWAY,
  isolatedHome,
  trackedGateways,
  stdioServer,
  tempDir,
  toolNames,
  waitFor,
  isAlive,
  writeConfig,
} from './helpers/gatewayProcess.js';

const gateway = trackedGateways();
const leftovers = [];
after(() => {
  for (const pid of leftovers) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
});

/** The fixture server behind `sh -c`: sh forks it (a command follows), so it is the gateway's grandchild. */
function wrappedStubbornServer(dir) {
  const inner = stdioServer('stubborn', { FIXTURE_MODE: 'ignore-stdin-close', FIXTURE_PID_FILE: join(dir, 'inner.pid') });
  return {
    command: 'sh',
    args: ['-c', 'echo $$ > "$WRAPPER_PID_FILE"; "$0" "$@"; exit $?', inner.command, ...inner.args],
    env: { ...inner.env, WRAPPER_PID_FILE: join(dir, 'wrapper.pid') },
  };
}

/** Waits for the server's tools, then returns the pids of the wrapper and of the server under it. */
async function startedPids(gw, dir) {
  await waitFor(async () => (await toolNames(gw.client)).includes('stubborn__echo'), { what: 'the wrapped server ready' });
  const read = (name) => Number(readFileSync(join(dir, name), 'utf8').trim());
  const pids = { wrapper: read('wrapper.pid'), inner: read('inner.pid') };
  leftovers.push(pids.wrapper, pids.inner);
  assert.notEqual(pids.inner, pids.wrapper, 'the server is a grandchild, not exec-ed by sh');
  assert.ok(isAlive(pids.wrapper) && isAlive(pids.inner));
  return pids;
}

for (const how of ['stdin closed', 'SIGTERM']) {
  test(`a server under sh -c that ignores stdin EOF and SIGTERM is gone once the gateway exits (${how})`, async () => {
    const dir = tempDir();
    const gw = await gateway({ mcpServers: { stubborn: wrappedStubbornServer(dir) } });
    const { wrapper, inner } = await startedPids(gw, dir);
    if (how === 'stdin closed') gw.child.stdin.end();
    else gw.child.kill('SIGTERM');
    const { code } = await gw.exited;
    assert.equal(code, 0, gw.stderr());
    await waitFor(() => !isAlive(inner) && !isAlive(wrapper), { what: 'the wrapper and the server under it gone', timeoutMs: 3000 });
  });
}

test('a server removed from the config while serving is ended with its whole group', async () => {
  const dir = tempDir();
  const configPath = writeConfig({ mcpServers: { stubborn: wrappedStubbornServer(dir), plain: stdioServer('plain') } }, dir);
  const gw = await gateway(configPath);
  const { wrapper, inner } = await startedPids(gw, dir);
  writeFileSync(configPath, JSON.stringify({ mcpServers: { plain: stdioServer('plain') } }));
  await waitFor(() => !isAlive(inner) && !isAlive(wrapper), { what: 'the removed server and its wrapper gone', timeoutMs: 10_000 });
  assert.ok(gw.child.exitCode === null, 'the gateway keeps serving');
  await gw.close();
});

test('gateway list interrupted by SIGINT (as Ctrl-C would) ends the groups it started, then dies of the signal', async () => {
  const dir = tempDir();
  const configPath = writeConfig(
    { mcpServers: { stubborn: wrappedStubbornServer(dir), slow: stdioServer('slow', { FIXTURE_MODE: 'hang-at-connect' }) } },
    dir,
  );
  const list = spawn(process.execPath, [GATEWAY, 'list', '--config', configPath], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...isolatedHome() },
  });
  let stderr = '';
  list.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => list.on('exit', (code, signal) => resolve({ code, signal })));
  await waitFor(() => /stubborn: ready/.test(stderr), { what: `the wrapped server ready; stderr so far:\n${stderr}` });
  const read = (name) => Number(readFileSync(join(dir, name), 'utf8').trim());
  const pids = [read('wrapper.pid'), read('inner.pid')];
  leftovers.push(...pids);
  assert.ok(pids.every(isAlive));
  list.kill('SIGINT');
  assert.deepEqual(await exited, { code: null, signal: 'SIGINT' });
  await waitFor(() => pids.every((pid) => !isAlive(pid)), { what: 'the groups gone', timeoutMs: 3000 });
});
