// A downstream server's pure parts on their own, beside the end-to-end tests: its state
// helpers, the catalog cache on a real directory, and how a failure is read and worded, with
// the gateway's real error classes (src/shared/errors.ts) and a real refused connection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { lstatSync, readFileSync, statSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describeState, hasSettled, isWorthWaitingFor } from '../dist/downstream/downstreamState.js';
import { CatalogCache, configHash } from '../dist/downstream/catalogCache.js';
import { explainFailure, explainClose, readRequestFailure, networkError } from '../dist/downstream/downstreamFailures.js';
import {
  CallbackPortInUseError,
  LockTimeoutError,
  LoginRequiredError,
  OAuthFlowError,
  ServerClosedError,
  TokenStoreUnavailableError,
  TransientAuthError,
  UnsafeAuthorizationServerError,
} from '../dist/shared/errors.js';
import { registerSecret } from '../dist/log/redact.js';
import { tempDir } from './helpers/gatewayProcess.js';

const T0 = 1_700_000_000_000;

// --- States -------------------------------------------------------------------------------

const STATES = {
  disabled: { status: 'disabled' },
  connecting: { status: 'connecting' },
  ready: { status: 'ready' },
  loggingIn: {
    status: 'needs-auth',
    reason: 'waiting for the login to finish in the browser',
    authorizationUrl: 'https://as.example/authorize?x=1',
    loginInProgress: true,
  },
  loginBlocked: { status: 'needs-auth', reason: 'runs headless', loginInProgress: false },
  reconnecting: { status: 'reconnecting', reason: 'process exited', attempt: 2, nextAttemptAt: T0 + 4200 },
  failed: { status: 'failed', reason: 'command not found: x' },
};

test('a server has settled when it is ready, failed, disabled, or needs a login that cannot finish by itself', () => {
  const settled = Object.keys(STATES).filter((key) => hasSettled(STATES[key]));
  assert.deepEqual(settled, ['disabled', 'ready', 'loginBlocked', 'failed']);
});

test('a call waits for a server on its way to ready, or one a login can bring there; never for a failed or disabled one', () => {
  const worth = Object.keys(STATES).filter((key) => isWorthWaitingFor(STATES[key]));
  assert.deepEqual(worth, ['connecting', 'loggingIn', 'loginBlocked', 'reconnecting']);
});

test('describeState: the words gateway list prints, with the reason, the login URL and when the next attempt comes', (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: T0 });
  assert.equal(describeState(STATES.ready), 'ready');
  assert.equal(describeState(STATES.failed), 'failed: command not found: x');
  assert.equal(
    describeState(STATES.loggingIn),
    'needs-auth: waiting for the login to finish in the browser (open https://as.example/authorize?x=1)',
  );
  assert.equal(describeState(STATES.loginBlocked), 'needs-auth: runs headless');
  assert.equal(describeState(STATES.reconnecting), 'reconnecting (attempt 2, next in 5 s): process exited');
  t.mock.timers.tick(4200);
  assert.equal(describeState(STATES.reconnecting), 'reconnecting (attempt 2): process exited', 'due now: no "next in"');
});

// --- The catalog cache ------------------------------------------------------------------

const stdioEntry = (env = {}) => ({ kind: 'stdio', name: 'files', command: 'node', args: ['server.js'], env, disabled: false });
const CATALOG = {
  tools: [{ name: 'read', description: 'Reads a file', inputSchema: { type: 'object' } }],
  prompts: [{ name: 'summarize' }],
  resources: [{ uri: 'file:///a', name: 'a' }],
  resourceTemplates: [],
  instructions: 'Use read for files.',
  serverInfo: { name: 'files', version: '1.2.3' },
};

test('catalog cache: what a server listed comes back for the same entry at a later start (a new cache), from a 0600 file in a 0700 directory', async () => {
  const dir = join(tempDir('gw-cache-'), 'catalogs');
  const before = Date.now();
  assert.equal(await new CatalogCache(dir).save(stdioEntry(), CATALOG), true);
  const file = join(dir, 'files.json');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  const loaded = new CatalogCache(dir).load(stdioEntry());
  const { savedAt, ...catalog } = loaded;
  assert.deepEqual(catalog, CATALOG);
  assert.ok(savedAt >= before && savedAt <= Date.now());
});

test('catalog cache: an edited entry never gets the old catalog, and the file holds a hash of the entry, not its secrets', async () => {
  const dir = tempDir('gw-cache-');
  const secret = 'sk-live-0123456789abcdef';
  const entry = stdioEntry({ API_KEY: secret });
  await new CatalogCache(dir).save(entry, CATALOG);
  const text = readFileSync(join(dir, 'files.json'), 'utf8');
  assert.ok(!text.includes(secret));
  assert.equal(JSON.parse(text).configHash, configHash(entry));
  assert.equal(new CatalogCache(dir).load(stdioEntry({ API_KEY: 'another' })), undefined, 'another key');
  assert.equal(new CatalogCache(dir).load({ ...entry, args: ['other.js'] }), undefined, 'other arguments');
  assert.equal(new CatalogCache(dir).load({ ...entry, name: 'other' }), undefined, 'another server');
  assert.ok(new CatalogCache(dir).load(entry));
});

test('catalog cache: an unchanged catalog is not written again; a changed one is', async () => {
  const dir = tempDir('gw-cache-');
  const cache = new CatalogCache(dir);
  assert.equal(await cache.save(stdioEntry(), CATALOG), true);
  assert.equal(await cache.save(stdioEntry(), { ...CATALOG }), false);
  const later = new CatalogCache(dir);
  later.load(stdioEntry());
  assert.equal(await later.save(stdioEntry(), CATALOG), false, 'what it loaded counts as written');
  assert.equal(await later.save(stdioEntry(), { ...CATALOG, tools: [] }), true);
  assert.deepEqual(new CatalogCache(dir).load(stdioEntry()).tools, []);
});

test('catalog cache: a symlink in place of the file is not read, even to a good cache file', async () => {
  const dir = tempDir('gw-cache-');
  const elsewhere = tempDir('gw-cache-elsewhere-');
  await new CatalogCache(elsewhere).save(stdioEntry(), CATALOG);
  assert.ok(new CatalogCache(elsewhere).load(stdioEntry()), 'the target itself is a good cache');
  symlinkSync(join(elsewhere, 'files.json'), join(dir, 'files.json'));
  assert.ok(lstatSync(join(dir, 'files.json')).isSymbolicLink());
  assert.equal(new CatalogCache(dir).load(stdioEntry()), undefined);
});

test('catalog cache: an unreadable, foreign or partial file is no catalog (never an error)', () => {
  const dir = tempDir('gw-cache-');
  const cache = new CatalogCache(dir);
  const put = (content) => writeFileSync(join(dir, 'files.json'), content);
  assert.equal(cache.load(stdioEntry()), undefined, 'no file');
  put('{"version": 1, "serv');
  assert.equal(cache.load(stdioEntry()), undefined, 'torn');
  const good = { version: 1, server: 'files', configHash: configHash(stdioEntry()), savedAt: T0, ...CATALOG };
  put(JSON.stringify({ ...good, version: 2 }));
  assert.equal(cache.load(stdioEntry()), undefined, 'another format');
  put(JSON.stringify({ ...good, tools: 'not a list' }));
  assert.equal(cache.load(stdioEntry()), undefined, 'a list that is not one');
  mkdirSync(join(dir, 'dir.json'));
  assert.equal(cache.load({ ...stdioEntry(), name: 'dir' }), undefined, 'a directory');
  put(JSON.stringify(good));
  assert.equal(cache.load(stdioEntry()).savedAt, T0, 'and the good one is read');
});

// --- Failures -----------------------------------------------------------------------------

const stdio = { kind: 'stdio', name: 'local', command: 'no-such-cmd', args: [], env: {}, disabled: false };
const http = { kind: 'http', name: 'remote', url: 'http://127.0.0.1:9/mcp', transport: 'streamable-http', headers: {}, disabled: false };
const errno = (code, message = code) => Object.assign(new Error(message), { code });

/** A real refused connection: fetch to a port nobody listens on. */
async function refusedFetch() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return fetch(`http://127.0.0.1:${port}/mcp`).then(
    () => assert.fail('the port answered'),
    (error) => error,
  );
}

test('explainFailure, stdio: a missing or non-executable command, and a process that exits during start with its stderr line', () => {
  assert.equal(explainFailure(stdio, errno('ENOENT'), undefined, undefined), 'command not found: no-such-cmd (check "command" and PATH)');
  assert.equal(explainFailure(stdio, errno('EACCES'), undefined, undefined), 'command not executable: no-such-cmd');
  const closed = new ServerClosedError('MCP error -32000: Connection closed');
  assert.equal(explainFailure(stdio, closed, undefined, 'fatal: no config'), 'process exited during start (last stderr: fatal: no config)');
  assert.equal(explainFailure(stdio, closed, undefined, undefined), 'process exited during start');
  assert.equal(explainFailure(stdio, new Error('odd'), undefined, 'a line'), 'odd (last stderr: a line)');
  assert.equal(explainClose(stdio, 'bye'), 'process exited (last stderr: bye)');
  assert.equal(explainClose(http, 'ignored'), 'connection closed by the server');
});

test('explainFailure, HTTP: a 401 no login cured, the login\'s own failures as "login failed", and a server that cannot be reached', async () => {
  assert.equal(
    explainFailure(http, new Error('Unauthorized'), 401, undefined),
    'the server requires an OAuth login (HTTP 401) and none succeeded',
  );
  for (const error of [
    new OAuthFlowError('access_denied', 'access_denied: the user said no'),
    new UnsafeAuthorizationServerError('does not offer PKCE with S256'),
    new TransientAuthError('token refresh failed 4 times: HTTP 500'),
    new LoginRequiredError('remote needs a login and this gateway runs headless'),
    new CallbackPortInUseError(8123),
  ]) {
    assert.equal(explainFailure(http, error, undefined, undefined), `login failed: ${error.message}`, error.name);
  }
  // The store is not the login: its message stands as it is.
  const store = new TokenStoreUnavailableError('the OS keychain is not available');
  assert.equal(explainFailure(http, store, undefined, undefined), 'the OS keychain is not available');
  const refused = await refusedFetch();
  assert.match(
    explainFailure({ ...http, url: 'http://127.0.0.1:1/mcp' }, refused, undefined, undefined),
    /^cannot reach http:\/\/127\.0\.0\.1:1\/mcp: connection refused \(is the server running\?\)$/,
  );
  const notFound = Object.assign(new TypeError('fetch failed'), { cause: errno('ENOTFOUND') });
  assert.equal(explainFailure(http, notFound, undefined, undefined), 'cannot reach http://127.0.0.1:9/mcp: host not found');
});

test('explainFailure: a secret in a login failure is redacted', () => {
  registerSecret('at_secret-token-value-1234');
  const error = new OAuthFlowError('x', 'the server echoed at_secret-token-value-1234 back');
  assert.equal(explainFailure(http, error, undefined, undefined), 'login failed: the server echoed [redacted] back');
});

test('networkError: a request that never got an answer, itself or as the cause of another error; nothing else', async () => {
  const refused = await refusedFetch();
  assert.equal(networkError(refused), refused);
  const wrapped = Object.assign(new Error('SSE error'), { cause: refused });
  assert.equal(networkError(wrapped), refused);
  assert.equal(networkError(new TypeError('fetch failed')), undefined, 'no cause with a code');
  assert.equal(networkError(new Error('HTTP 500')), undefined);
  assert.equal(networkError(undefined), undefined);
});

test('readRequestFailure: 401 logs in again; 403 steps up while allowed; the authorization server down leaves it failed; a lost HTTP server reconnects', async () => {
  const never = () => assert.fail('takeStepUp asked without a 403');
  assert.deepEqual(readRequestFailure(http, new Error('x'), 401, never), {
    act: 'log-in-again',
    message: 'the server asked for a new login; logging in again (retry the call once it is ready)',
  });
  assert.equal(readRequestFailure(http, new Error('x'), 403, () => true).act, 'step-up');
  assert.deepEqual(
    readRequestFailure(http, new Error('x'), 403, () => false),
    { act: 'none' },
    "no more step-ups: the 403 is the call's own",
  );

  const down = readRequestFailure(http, new TransientAuthError('token refresh failed 4 times: HTTP 503'), undefined, never);
  assert.deepEqual(down, {
    act: 'auth-unavailable',
    retry: true,
    message: 'token refresh failed 4 times: HTTP 503; the gateway retries in the background',
  });
  assert.deepEqual(readRequestFailure(http, new LockTimeoutError('/s/lock', { pid: 42 }, 90_000), undefined, never).retry, true);
  assert.deepEqual(readRequestFailure(http, new OAuthFlowError('refresh_refused', 'the token refresh was refused'), undefined, never), {
    act: 'auth-unavailable',
    retry: false,
    message: 'the token refresh was refused',
  });
  assert.equal(readRequestFailure(http, new UnsafeAuthorizationServerError('bad'), undefined, never).retry, false);

  const refused = await refusedFetch();
  assert.deepEqual(readRequestFailure(http, refused, undefined, never), {
    act: 'reconnect',
    reason: 'cannot reach http://127.0.0.1:9/mcp: connection refused (is the server running?)',
    message: 'cannot reach http://127.0.0.1:9/mcp: connection refused (is the server running?); reconnecting',
  });
  assert.deepEqual(readRequestFailure(stdio, refused, undefined, never), { act: 'none' }, 'a stdio server is not reconnected for a fetch');
  assert.deepEqual(readRequestFailure(http, new Error('tool failed'), 500, never), { act: 'none' });
  assert.deepEqual(
    readRequestFailure(http, new LoginRequiredError('headless'), undefined, never),
    { act: 'none' },
    'a login that cannot start is not the authorization server down',
  );
});
