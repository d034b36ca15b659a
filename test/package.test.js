// What `npx mcp-oauth-gateway` installs: bin/ and the bundle, with only `open` beside it.
// The bundle must carry everything else (SDK, zod, undici, commander, env-paths).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { startHttpMcpServer } from './fixtures/http-server.js';
import { tempDir, STDIO_FIXTURE, runCli } from './helpers/gatewayProcess.js';

const ROOT = new URL('..', import.meta.url).pathname;

test('the published files run on their own: stdio and HTTP servers, with only the runtime dependencies installed', async (t) => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  assert.deepEqual(Object.keys(pkg.dependencies), ['open']);
  const dir = tempDir('gw-package-');
  for (const file of ['bin/gateway.js', 'dist/bundle', 'package.json']) {
    mkdirSync(join(dir, file, '..'), { recursive: true });
    cpSync(join(ROOT, file), join(dir, file), { recursive: true });
  }
  mkdirSync(join(dir, 'node_modules'));
  // `open` and its own dependencies, as npm would install them.
  const runtime = [
    'open',
    'default-browser',
    'default-browser-id',
    'bundle-name',
    'run-applescript',
    'define-lazy-prop',
    'is-inside-container',
    'is-docker',
    'is-wsl',
    'wsl-utils',
    'powershell-utils',
    'is-in-ssh',
  ];
  for (const name of runtime) {
    try {
      symlinkSync(join(ROOT, 'node_modules', name), join(dir, 'node_modules', name));
    } catch {
      // Not every version of `open` has each of these.
    }
  }
  const web = await startHttpMcpServer({ mode: 'streamable', name: 'web' });
  t.after(() => web.close());
  writeFileSync(
    join(dir, 'cfg.json'),
    JSON.stringify({ mcpServers: { local: { command: process.execPath, args: [STDIO_FIXTURE] }, web: { url: web.url } } }),
  );
  const version = spawnSync(process.execPath, [join(dir, 'bin/gateway.js'), '--version'], { encoding: 'utf8' });
  assert.equal(version.stdout.trim(), pkg.version);
  const list = await runCli(['list', '--json', '--config', join(dir, 'cfg.json')], { cwd: dir, bin: join(dir, 'bin/gateway.js') });
  assert.equal(list.status, 0, list.stderr);
  const states = JSON.parse(list.stdout).servers.map((s) => [s.name, s.state, s.tools.length > 0]);
  assert.deepEqual(states, [
    ['local', 'ready', true],
    ['web', 'ready', true],
  ]);
});

test('the bundle holds only chunks it loads: a build starts from an empty dist/, so no stale chunk of an earlier build is published', () => {
  const bundle = join(ROOT, 'dist/bundle');
  const chunks = readdirSync(join(bundle, 'chunks')).filter((name) => name.endsWith('.mjs'));
  const code = ['gateway.mjs', ...chunks.map((name) => `chunks/${name}`)]
    .map((file) => readFileSync(join(bundle, file), 'utf8'))
    .join('\n');
  const unused = chunks.filter((name) => !code.includes(`/${name}"`) && !code.includes(`./${name}"`));
  assert.deepEqual(unused, []);
  assert.ok(chunks.length > 3);
});
