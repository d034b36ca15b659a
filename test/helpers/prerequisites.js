// What a few tests need besides Node, and what happens where it is missing.
//   chromium  a Chromium for the end-to-end browser login: $CHROMIUM_PATH, else `chromium` or
//             `chromium-browser` on PATH
//   keyring   a Secret Service to run: `dbus-run-session` and `gnome-keyring-daemon` on PATH,
//             and the optional package @napi-rs/keyring loadable
//   openssl   the `openssl` command, for a self-signed certificate
// A test that needs one that is missing is skipped, with the reason on one line. Where
// MCP_GATEWAY_TEST_REQUIRE names it ("chromium,keyring", or "all"; .ci/run sets "all"), the
// test fails instead, so CI can never skip it silently.
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';

export const REQUIRE_VARIABLE = 'MCP_GATEWAY_TEST_REQUIRE';

const INSTALL = {
  chromium: 'apt-get install chromium',
  keyring: 'apt-get install dbus gnome-keyring',
  openssl: 'apt-get install openssl',
};

/** The executable `name` on PATH (or at `name` when it is a path), or undefined. */
export function onPath(name, env = process.env) {
  const candidates = name.includes('/')
    ? [name]
    : (env.PATH ?? '')
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, name));
  return candidates.find((path) => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** The Chromium the browser test drives, or undefined. */
export function chromiumPath(env = process.env) {
  if (env.CHROMIUM_PATH) return onPath(env.CHROMIUM_PATH, env);
  return onPath('chromium', env) ?? onPath('chromium-browser', env);
}

const probes = {
  chromium(env) {
    if (chromiumPath(env)) return undefined;
    return env.CHROMIUM_PATH
      ? `CHROMIUM_PATH=${env.CHROMIUM_PATH} is not an executable`
      : 'no chromium or chromium-browser on PATH (or set CHROMIUM_PATH)';
  },
  keyring(env) {
    const tools = ['dbus-run-session', 'gnome-keyring-daemon'].filter((tool) => !onPath(tool, env));
    if (tools.length) return `no ${tools.join(' or ')} on PATH`;
    try {
      createRequire(import.meta.url)('@napi-rs/keyring');
    } catch (error) {
      return `the optional package @napi-rs/keyring does not load (${String(error.message).split('\n')[0]})`;
    }
    return undefined;
  },
  openssl(env) {
    return onPath('openssl', env) ? undefined : 'no openssl on PATH';
  },
};

export const PREREQUISITES = Object.keys(probes);

/** Why `name` is missing here, or undefined when it is present. */
export function missing(name, env = process.env) {
  if (!probes[name]) throw new Error(`unknown prerequisite "${name}" (known: ${PREREQUISITES.join(', ')})`);
  return probes[name](env);
}

/** The prerequisites MCP_GATEWAY_TEST_REQUIRE turns from "skip" into "fail"; throws on a name it does not know. */
export function required(env = process.env) {
  const names = (env[REQUIRE_VARIABLE] ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (names.includes('all')) return [...PREREQUISITES];
  const unknown = names.filter((name) => !probes[name]);
  if (unknown.length) throw new Error(`${REQUIRE_VARIABLE} names ${unknown.join(', ')}; known: ${PREREQUISITES.join(', ')}, or all`);
  return names;
}

/**
 * node:test's test(), for a test that needs `names` (one or a list): run where they are
 * present; skipped with the reason where one is missing; failed with the reason where one is
 * missing that MCP_GATEWAY_TEST_REQUIRE names.
 */
export function testNeeding(names, title, fn) {
  const reasons = [];
  let demanded = [];
  try {
    demanded = required();
    for (const name of [names].flat()) {
      const why = missing(name);
      if (why) reasons.push({ name, why });
    }
  } catch (error) {
    return test(title, () => assert.fail(error.message));
  }
  if (!reasons.length) return test(title, fn);
  const text = reasons.map(({ name, why }) => `needs ${name}: ${why} (${INSTALL[name]}; .ci/run installs it)`).join('; ');
  const failing = reasons.filter(({ name }) => demanded.includes(name)).map(({ name }) => name);
  if (failing.length)
    return test(title, () => assert.fail(`${text}; ${REQUIRE_VARIABLE}=${process.env[REQUIRE_VARIABLE]} requires ${failing.join(', ')}`));
  return test(title, { skip: text }, fn);
}
