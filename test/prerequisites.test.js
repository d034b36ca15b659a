// Tests that need Chromium, a Secret Service or openssl: skipped with the reason where those
// are missing, failed instead where MCP_GATEWAY_TEST_REQUIRE names them. Run as a real
// node:test process with the prerequisites hidden (an empty PATH, a CHROMIUM_PATH that is not there).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/gatewayProcess.js';

const FIXTURE = new URL('./fixtures/prerequisites/needsEach.js', import.meta.url).pathname;

function run(extraEnv) {
  const env = { ...process.env, PATH: tempDir('gw-empty-path-'), CHROMIUM_PATH: '/nonexistent/chromium', ...extraEnv };
  delete env.NODE_TEST_CONTEXT; // else the child reports to this runner instead of printing TAP
  if (extraEnv.MCP_GATEWAY_TEST_REQUIRE === undefined) delete env.MCP_GATEWAY_TEST_REQUIRE;
  const child = spawnSync(process.execPath, ['--test-reporter=tap', FIXTURE], { env, encoding: 'utf8' });
  return { status: child.status, out: child.stdout + child.stderr };
}

test('missing prerequisites: each test that needs one is skipped with a one-line reason, and the run passes', () => {
  const { status, out } = run({});
  assert.equal(status, 0, out);
  assert.match(
    out,
    /^ok 1 - needs chromium # SKIP needs chromium: CHROMIUM_PATH=\/nonexistent\/chromium is not an executable \(apt-get install chromium; \.ci\/run installs it\)$/m,
  );
  assert.match(
    out,
    /^ok 2 - needs keyring # SKIP needs keyring: no dbus-run-session or gnome-keyring-daemon on PATH \(apt-get install dbus gnome-keyring; \.ci\/run installs it\)$/m,
  );
  assert.match(out, /^ok 3 - needs openssl # SKIP needs openssl: no openssl on PATH \(apt-get install openssl; \.ci\/run installs it\)$/m);
  assert.match(out, /^# skipped 3$/m);
});

test('MCP_GATEWAY_TEST_REQUIRE turns a missing prerequisite into a failure (as in CI); an unknown name fails too', () => {
  const one = run({ MCP_GATEWAY_TEST_REQUIRE: 'chromium' });
  assert.equal(one.status, 1, one.out);
  assert.match(one.out, /^not ok 1 - needs chromium$/m);
  assert.match(one.out, /MCP_GATEWAY_TEST_REQUIRE=chromium requires chromium/);
  assert.match(one.out, /^ok 2 - needs keyring # SKIP/m);
  assert.match(one.out, /^# fail 1$/m);

  const all = run({ MCP_GATEWAY_TEST_REQUIRE: 'all' });
  assert.equal(all.status, 1, all.out);
  assert.match(all.out, /^# fail 3$/m);

  const typo = run({ MCP_GATEWAY_TEST_REQUIRE: 'chromuim' });
  assert.equal(typo.status, 1, typo.out);
  assert.match(typo.out, /MCP_GATEWAY_TEST_REQUIRE names chromuim; known: chromium, keyring, openssl, or all/);
});

test('present prerequisites: the tests that need them run', () => {
  const bin = tempDir('gw-fake-path-');
  for (const tool of ['chromium', 'dbus-run-session', 'gnome-keyring-daemon', 'openssl']) {
    writeFileSync(join(bin, tool), '#!/bin/sh\n');
    chmodSync(join(bin, tool), 0o755);
  }
  const { status, out } = run({ PATH: bin, CHROMIUM_PATH: '' });
  assert.equal(status, 0, out);
  assert.match(out, /^ok 1 - needs chromium$/m);
  assert.match(
    out,
    /^ok 2 - needs keyring$|^ok 2 - needs keyring # SKIP needs keyring: the optional package @napi-rs\/keyring does not load/m,
  );
  assert.match(out, /^ok 3 - needs openssl$/m);
});
