// `npm run demo-server`: each run writes its config to a path of its own, removed when it stops.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { killedAtEnd, tempDir, waitFor } from './helpers/gatewayProcess.js';

const DEMO = new URL('./fixtures/oauth/demo-server.js', import.meta.url).pathname;
const running = killedAtEnd();

function startDemo(args = []) {
  const child = spawn(process.execPath, [DEMO, '--auto-approve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const demo = { child, stderr: '', exited: new Promise((resolve) => child.on('exit', resolve)) };
  child.stderr.setEncoding('utf8').on('data', (chunk) => (demo.stderr += chunk));
  running.push(demo);
  return demo;
}

test('two demo servers at once write two configs, each removed with its own temp dir on Ctrl-C; --config writes where it says', async () => {
  const demos = [startDemo(), startDemo()];
  const paths = [];
  for (const demo of demos) {
    const path = await waitFor(() => /A config that uses it: (\S+)/.exec(demo.stderr)?.[1], { what: 'the config path' });
    assert.match(JSON.parse(readFileSync(path, 'utf8')).mcpServers.demo.url, /^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    paths.push(path);
  }
  assert.notEqual(paths[0], paths[1]);
  for (const demo of demos) demo.child.kill('SIGINT');
  await Promise.all(demos.map((demo) => demo.exited));
  for (const path of paths) assert.ok(!existsSync(dirname(path)), `${dirname(path)} removed`);

  const chosen = join(tempDir('gw-demo-'), 'demo.json');
  const mine = startDemo(['--config', chosen]);
  await waitFor(() => mine.stderr.includes(`A config that uses it: ${chosen}`), { what: 'the chosen path' });
  assert.ok(existsSync(chosen));
  mine.child.kill('SIGINT');
  await mine.exited;
  assert.ok(existsSync(chosen), 'a file the user named is left alone');
});
