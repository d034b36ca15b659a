// Helpers for OAuth end-to-end tests: a fresh store per test, the stand-in browser wired in,
// and readers for what the browser saw and what the store holds.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after } from 'node:test';
import { startOAuthFixture } from '../fixtures/oauth/authServer.js';
import { killedAtEnd, startGateway, tempDir, waitFor, toolNames, runCli, serverStatus } from './gatewayProcess.js';

export const FAKE_BROWSER = new URL('./fakeBrowser.js', import.meta.url).pathname;
export const CHROMIUM_BROWSER = new URL('./chromiumBrowser.js', import.meta.url).pathname;

/** A gateway home (token store) and a browser log for one test. */
export function oauthHome() {
  const home = tempDir('gw-oauth-');
  return { home, browserLog: join(tempDir('gw-browser-'), 'browser.log') };
}

export function oauthEnv({ home, browserLog }, extra = {}) {
  return {
    MCP_GATEWAY_HOME: home,
    MCP_GATEWAY_BROWSER: FAKE_BROWSER,
    FAKE_BROWSER_LOG: browserLog,
    MCP_GATEWAY_RETRY_BASE_MS: '1000',
    ...extra,
  };
}

/** The URLs the stand-in browser was launched with. */
export function browserLaunches({ browserLog }) {
  if (!existsSync(browserLog)) return [];
  return readFileSync(browserLog, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('http'));
}

export function browserLogText({ browserLog }) {
  return existsSync(browserLog) ? readFileSync(browserLog, 'utf8') : '';
}

/** The one server directory in a store (tests use one OAuth server per store unless they say so). */
export function serverDirs({ home }) {
  const root = join(home, 'servers');
  return existsSync(root) ? readdirSync(root).map((name) => join(root, name)) : [];
}

export function storedTokens(env, index = 0) {
  const dir = serverDirs(env)[index];
  return JSON.parse(readFileSync(join(dir, 'tokens.json'), 'utf8'));
}

/**
 * The stored access token has expired, as a gateway reading the store sees it (its expiry an
 * hour-old token's, a second ago): the next gateway to load it refreshes it before use, with
 * no waiting for the clock. The authorization server still honours it; only the gateway's
 * reckoning is moved. The store is the plain file backend (tokens.json).
 */
export function expireStoredTokens(env, index = 0) {
  const file = join(serverDirs(env)[index], 'tokens.json');
  const tokens = JSON.parse(readFileSync(file, 'utf8'));
  const now = Date.now();
  writeFileSync(file, JSON.stringify({ ...tokens, obtained_at: now - 3_600_000, expires_at: now - 1000 }));
}

/**
 * Waits until a running gateway holding the stored tokens counts them as due for a refresh, by
 * its own rule (tokenTiming.expiresSoon, read from the store it saves to before use): for a
 * test that needs the refresh made before a request, not the one a 401 brings.
 */
export async function untilRefreshDue(env, index = 0) {
  const { expiresSoon } = await import('../../dist/oauth/tokenTiming.js');
  await waitFor(() => expiresSoon(storedTokens(env, index)), { what: 'the stored token to be due for a refresh' });
}

/** Starts a gateway with one OAuth server (plus any extra servers) and waits until its tools are listed. */
export async function startOAuthGateway(env, servers, { extraEnv = {}, args = [], waitForPrefix, timeoutMs = 20_000 } = {}) {
  const gateway = await startGateway({ mcpServers: servers }, { env: oauthEnv(env, extraEnv), args });
  if (waitForPrefix) await waitForTools(gateway, waitForPrefix, timeoutMs);
  return gateway;
}

/**
 * Waits until the server is connected: ready in gateway__status, its tools listed. (Listed
 * tools alone are no sign of it: after a first start they come from the catalog cache at once,
 * before the tokens are loaded or the server answers.)
 */
export async function waitForTools(gateway, prefix, timeoutMs = 20_000) {
  try {
    await waitFor(
      async () =>
        (await toolNames(gateway.client)).some((name) => name.startsWith(`${prefix}__`)) &&
        (await serverStatus(gateway.client, prefix))?.state === 'ready',
      { timeoutMs, what: `${prefix} ready with its tools` },
    );
  } catch (error) {
    error.message += `\n--- gateway stderr ---\n${gateway.stderr()}`;
    throw error;
  }
}

export async function echo(gateway, server, text = 'hi') {
  const result = await gateway.client.callTool({ name: `${server}__echo`, arguments: { text } });
  return result.content?.[0]?.text;
}

/**
 * Starts test authorization servers for one test file (each with `defaults` under its own
 * knobs); all are closed when the file's tests are over.
 */
/** `startOAuthGateway`, with every gateway it starts ended when the test file's tests are over (as trackedGateways). */
export function trackedOAuthGateways() {
  const running = killedAtEnd();
  return async (env, servers, options) => {
    const gw = await startOAuthGateway(env, servers, options);
    running.push(gw);
    return gw;
  };
}

export function trackedFixtures(defaults = {}) {
  const started = [];
  after(async () => {
    for (const fixture of started) await fixture.close().catch(() => {});
  });
  return async (knobs) => {
    const fixture = await startOAuthFixture({ ...defaults, ...knobs });
    started.push(fixture);
    return fixture;
  };
}

/** The user approving in a browser: follows the authorization server's redirects to their end (the gateway's callback). */
export async function followRedirects(url) {
  let next = url;
  while (next) {
    const response = await fetch(next, { redirect: 'manual' });
    const location = response.headers.get('location');
    next = location ? new URL(location, next).href : undefined;
  }
}

export { runCli, waitFor, toolNames };
