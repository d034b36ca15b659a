// The pure steps of a server's OAuth, on their own and with an injected clock: the browser
// launch limit, the scope and resource policies, the discovery fallbacks, token timing,
// step-up bookkeeping, the one choice of client authentication, the device flow's polling
// (a scripted token endpoint on node:test's mock clock) and a token session's refreshes (a
// real store on disk, the renewal grants stood in for). The end-to-end behaviour is in oauth-flow and oauth-breadth.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { judgeLaunch, launchRefusalMessage, LaunchLog, BROWSER_LAUNCH_INTERVAL_MS } from '../dist/oauth/browserLaunches.js';
import { loginScope } from '../dist/oauth/scopePolicy.js';
import { resourceIndicator } from '../dist/oauth/resourcePolicy.js';
import { withDiscoveryFallbacks } from '../dist/oauth/discovery.js';
import { expiresSoon, expired } from '../dist/oauth/tokenTiming.js';
import { ServerChallenges, MAX_STEP_UPS } from '../dist/oauth/serverChallenges.js';
import { LoginRequiredError } from '../dist/shared/errors.js';
import { TokenStore } from '../dist/oauth/tokenStore.js';
import { chooseClientAuthMethod, applyClientAuthentication, basicCredentials } from '../dist/oauth/clientAuthentication.js';
import { Logger } from '../dist/log/logger.js';
import { exchangeAuthorization, selectClientAuthMethod } from '@modelcontextprotocol/sdk/client/auth.js';
import { runDeviceFlow } from '../dist/oauth/deviceFlow.js';
import { TokenSession } from '../dist/oauth/tokenSession.js';
import { FlowLog } from '../dist/oauth/flowLog.js';
import { InvalidGrantError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { tempDir } from './helpers/gatewayProcess.js';

const T0 = 1_700_000_000_000;
const s = (seconds) => T0 + seconds * 1000;
const quiet = new Logger({ level: 'error' });

test('no automatic browser tab for a minute after a failed login, and one again after that minute', () => {
  const record = { launches: [T0], completed: false, failed_at: T0 };
  assert.deepEqual(judgeLaunch(record, s(20)), { because: 'failed', agoS: 20, retryInS: 40 });
  assert.deepEqual(judgeLaunch(record, s(59.5)), { because: 'failed', agoS: 60, retryInS: 1 });
  assert.equal(judgeLaunch(record, T0 + BROWSER_LAUNCH_INTERVAL_MS), undefined);
});

test('no automatic browser tab while a login started less than a minute ago has not completed (a timeout, a crashed process)', () => {
  const record = { launches: [T0], completed: false };
  assert.deepEqual(judgeLaunch(record, s(10)), { because: 'unfinished', agoS: 10, retryInS: 50 });
  assert.equal(judgeLaunch(record, s(61)), undefined);
});

test('at most two automatic browser tabs a minute, even when each login completes', () => {
  assert.equal(judgeLaunch({ launches: [], completed: true }, T0), undefined, 'nothing launched yet');
  assert.equal(judgeLaunch({ launches: [T0], completed: true }, s(5)), undefined, 'one completed login: a second tab may open');
  const twice = { launches: [T0, s(20)], completed: true };
  assert.deepEqual(judgeLaunch(twice, s(30)), { because: 'two-logins', retryInS: 30 });
  assert.equal(judgeLaunch(twice, s(60)), undefined, 'the first launch is more than a minute old');
});

test('a refused launch says why and what to do, naming the server', () => {
  assert.equal(
    launchRefusalMessage({ because: 'failed', agoS: 20, retryInS: 40 }, 'docs'),
    'a login for docs failed 20 s ago; not opening another browser tab automatically (restart the gateway in 40 s, or run `gateway auth login docs`)',
  );
  assert.match(
    launchRefusalMessage({ because: 'two-logins', retryInS: 30 }, 'docs'),
    /^docs needed two logins within a minute; .*restart the gateway in 30 s to try again/,
  );
  assert.match(
    launchRefusalMessage({ because: 'unfinished', agoS: 10, retryInS: 50 }, 'docs'),
    /was started 10 s ago and did not complete; .*in 50 s/,
  );
});

test('the launch record lives in the token store, so every gateway process sharing it keeps the limit; a corrupt record limits nothing', async () => {
  const store = new TokenStore(tempDir('gw-launches-'));
  const url = 'https://mcp.example.com/mcp';
  const launches = new LaunchLog(store, url);
  await launches.launched(quiet, T0);
  await assert.rejects(
    new LaunchLog(store, url).check('docs', s(10)),
    (error) => error instanceof LoginRequiredError && /started 10 s ago/.test(error.message),
  );
  await launches.failed(quiet, s(30));
  await assert.rejects(launches.check('docs', s(40)), /failed 10 s ago/);
  await launches.completed(quiet);
  await launches.check('docs', s(40));
  await store.writeMeta(url, 'browser', 'not json');
  assert.deepEqual(await launches.read(), { launches: [], completed: true });
});

const discovery = ({ resourceScopes, serverScopes, resource } = {}) => ({
  resourceMetadata:
    resourceScopes === undefined && resource === undefined
      ? undefined
      : { resource: resource ?? 'https://mcp.example.com/mcp', scopes_supported: resourceScopes },
  authorizationServerMetadata: { scopes_supported: serverScopes },
});
const scopeFor = (sources) => loginScope({ machine: false, ...sources });

test('offline_access is asked for only when the authorization server lists it, and never with client credentials', () => {
  assert.equal(scopeFor({ challenged: 'read' }), 'read');
  assert.equal(scopeFor({ challenged: 'read', serverScopes: ['read', 'offline_access'] }), 'read offline_access');
  assert.equal(scopeFor({ challenged: 'read offline_access', serverScopes: ['offline_access'] }), 'read offline_access', 'not twice');
  assert.equal(scopeFor({ serverScopes: ['offline_access'] }), 'offline_access');
  assert.equal(loginScope({ machine: true, challenged: 'read', serverScopes: ['offline_access'] }), 'read');
});

test('a step-up asks for the scopes held plus every scope the 403s named (held ∪ challenged), each once', () => {
  assert.equal(scopeFor({ challenged: 'read', held: 'read profile', stepUp: 'admin' }), 'read profile admin');
  assert.equal(scopeFor({ resourceScopes: ['read'], held: 'read', stepUp: 'admin write' }), 'read admin write');
  assert.equal(scopeFor({ stepUp: 'admin' }), 'admin', 'nothing held yet');
});

test('the 401 scope wins; else the resource metadata scopes_supported, where an empty list means no scope; else the config', () => {
  assert.equal(scopeFor({ challenged: 'a', resourceScopes: ['b'], configured: ['c'] }), 'a');
  assert.equal(scopeFor({ resourceScopes: ['b', 'c'], configured: ['d'] }), 'b c');
  assert.equal(scopeFor({ resourceScopes: [], configured: ['d'] }), undefined);
  assert.equal(scopeFor({ configured: ['d', 'e'] }), 'd e');
});

test('no scope parameter at all when nothing names a scope', () => {
  assert.equal(scopeFor({}), undefined);
  assert.equal(scopeFor({ challenged: '', configured: [] }), undefined);
});

test('resource: false sends no resource indicator; otherwise exactly what the resource metadata names, without a slash added', () => {
  const found = discovery({ resource: 'https://mcp.example.com' });
  assert.equal(resourceIndicator(found, {}), 'https://mcp.example.com');
  assert.equal(resourceIndicator(found, undefined), 'https://mcp.example.com');
  assert.equal(resourceIndicator(found, { resource: false }), undefined);
  assert.equal(resourceIndicator(discovery(), {}), undefined, 'no resource metadata: no indicator');
});

test('a 2025-03-26 server: without resource metadata its origin is the authorization server; without any metadata, the default endpoints there; each fallback said', () => {
  const modern = {
    authorizationServerUrl: 'https://as.example.com/',
    resourceMetadata: { resource: 'https://mcp.example.com/mcp' },
    authorizationServerMetadata: { issuer: 'https://as.example.com/' },
  };
  assert.deepEqual(withDiscoveryFallbacks(modern, 'https://mcp.example.com/mcp'), { state: modern, notes: [] });

  const originOnly = {
    authorizationServerUrl: 'https://mcp.example.com/',
    authorizationServerMetadata: { issuer: 'https://mcp.example.com/' },
  };
  const { state: kept, notes: one } = withDiscoveryFallbacks(originOnly, 'https://mcp.example.com/mcp');
  assert.equal(kept, originOnly);
  assert.equal(one.length, 1);
  assert.match(
    one[0],
    /^no protected resource metadata \(RFC 9728\): using the MCP server's origin https:\/\/mcp.example.com\/ as its authorization server/,
  );

  const { state, notes } = withDiscoveryFallbacks(
    { authorizationServerUrl: 'https://mcp.example.com/' },
    'https://mcp.example.com/deep/mcp',
  );
  assert.equal(notes.length, 2);
  assert.match(notes[1], /default endpoints \/authorize, \/token and \/register/);
  assert.equal(state.authorizationServerUrl, 'https://mcp.example.com/');
  assert.equal(state.authorizationServerMetadata.token_endpoint, 'https://mcp.example.com/token');
  assert.deepEqual(state.authorizationServerMetadata.code_challenge_methods_supported, ['S256']);
});

test('a token is refreshed a minute before it expires, or at three quarters of a short lifetime; one without expiry never', () => {
  const hour = { access_token: 'a', token_type: 'Bearer', obtained_at: T0, expires_at: s(3600) };
  assert.equal(expiresSoon(hour, s(3539)), false);
  assert.equal(expiresSoon(hour, s(3540)), true);
  const short = { ...hour, expires_at: s(20) };
  assert.equal(expiresSoon(short, s(14)), false);
  assert.equal(expiresSoon(short, s(15)), true);
  assert.equal(expired(short, s(19)), false);
  assert.equal(expired(short, s(20)), true);
  const endless = { access_token: 'a', token_type: 'Bearer', obtained_at: T0 };
  assert.equal(expiresSoon(endless, s(1e6)), false);
  assert.equal(expired(endless, s(1e6)), false);
});

test(`403 insufficient_scope makes the next login a step-up, at most ${MAX_STEP_UPS} times; other 403s and 401s do not`, () => {
  const challenges = new ServerChallenges();
  challenges.forbidden('Bearer error="invalid_token"', quiet);
  assert.equal(challenges.takeStepUp(), false);
  challenges.forbidden('Bearer error="insufficient_scope", scope="admin"', quiet);
  assert.equal(challenges.takeStepUp(), true);
  assert.equal(challenges.takeStepUp(), false, 'taken once');
  challenges.forbidden('Bearer error="insufficient_scope", scope="write admin"', quiet);
  assert.equal(challenges.stepUpScope, 'admin write');
  assert.equal(challenges.takeStepUp(), true);
  challenges.forbidden('Bearer error="insufficient_scope", scope="more"', quiet);
  assert.equal(challenges.takeStepUp(), false, 'no third step-up');
  challenges.unauthorized('Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource", scope="read"');
  assert.deepEqual(
    [challenges.resourceMetadata, challenges.scope],
    ['https://mcp.example.com/.well-known/oauth-protected-resource', 'read'],
  );
  challenges.unauthorized('Basic realm="x"');
  assert.equal(challenges.scope, 'read', 'a non-Bearer 401 changes nothing');
});

const confidential = { client_id: 'app', client_secret: 'shh' };
const publicClient = { client_id: 'app' };

test('client authentication: a configured private key always signs (private_key_jwt), whatever the server lists or the client holds', () => {
  assert.equal(chooseClientAuthMethod(confidential, ['client_secret_basic'], true), 'private_key_jwt');
  assert.equal(chooseClientAuthMethod(publicClient, undefined, true), 'private_key_jwt');
});

test('client authentication: the method the registration named, when the server lists it (or lists nothing) and the client can use it', () => {
  const registeredPost = { ...confidential, token_endpoint_auth_method: 'client_secret_post' };
  assert.equal(chooseClientAuthMethod(registeredPost, ['client_secret_basic', 'client_secret_post']), 'client_secret_post');
  assert.equal(chooseClientAuthMethod(registeredPost, undefined), 'client_secret_post');
  assert.equal(chooseClientAuthMethod(registeredPost, ['client_secret_basic']), 'client_secret_basic', 'not listed: the usual order');
  assert.equal(
    chooseClientAuthMethod({ ...publicClient, token_endpoint_auth_method: 'client_secret_basic' }, []),
    'none',
    'Basic without a secret is no choice',
  );
  assert.equal(chooseClientAuthMethod({ ...confidential, token_endpoint_auth_method: 'none' }, ['none', 'client_secret_basic']), 'none');
});

test('client authentication: nothing listed means Basic for a client with a secret (RFC 8414 default, RFC 6749 §2.3.1), none for a public client', () => {
  assert.equal(chooseClientAuthMethod(confidential, undefined), 'client_secret_basic');
  assert.equal(chooseClientAuthMethod(confidential, []), 'client_secret_basic');
  assert.equal(chooseClientAuthMethod(publicClient, []), 'none');
});

test('client authentication: Basic before post where both are listed; post where only it is; none for a public client where listed', () => {
  assert.equal(chooseClientAuthMethod(confidential, ['client_secret_post', 'client_secret_basic']), 'client_secret_basic');
  assert.equal(chooseClientAuthMethod(confidential, ['client_secret_post', 'none']), 'client_secret_post');
  assert.equal(chooseClientAuthMethod(publicClient, ['client_secret_post', 'none']), 'none');
});

test('client authentication: with nothing that fits listed, what the client has (post for a secret, else none)', () => {
  assert.equal(chooseClientAuthMethod(confidential, ['private_key_jwt']), 'client_secret_post');
  assert.equal(chooseClientAuthMethod(publicClient, ['client_secret_basic']), 'none');
});

test("client authentication: the same choice as the SDK's own for its token requests, for every list and client", () => {
  const lists = [
    [],
    ['client_secret_basic'],
    ['client_secret_post'],
    ['none'],
    ['client_secret_post', 'none'],
    ['client_secret_basic', 'client_secret_post'],
    ['private_key_jwt'],
  ];
  const clients = [
    confidential,
    publicClient,
    ...['client_secret_basic', 'client_secret_post', 'none'].map((method) => ({ ...confidential, token_endpoint_auth_method: method })),
    { ...publicClient, token_endpoint_auth_method: 'none' },
  ];
  for (const list of lists)
    for (const client of clients)
      assert.equal(chooseClientAuthMethod(client, list), selectClientAuthMethod(client, list), JSON.stringify({ client, list }));
});

test("client authentication: the Basic header is the SDK's own, byte for byte, for secrets with + / = % and spaces", async () => {
  const metadata = {
    issuer: 'https://as.example.com',
    authorization_endpoint: 'https://as.example.com/authorize',
    token_endpoint: 'https://as.example.com/token',
    response_types_supported: ['code'],
    token_endpoint_auth_methods_supported: ['client_secret_basic'],
  };
  for (const client of [
    { client_id: 'app', client_secret: 'q+8/Zw==' },
    { client_id: 'app.example', client_secret: 'p%ss w:rd' },
  ]) {
    let sdkHeader;
    const fetchFn = async (url, init) => {
      sdkHeader = new Headers(init.headers).get('authorization');
      return Response.json({ access_token: 'at', token_type: 'Bearer' });
    };
    await exchangeAuthorization(metadata.issuer, {
      metadata,
      clientInformation: client,
      authorizationCode: 'c',
      codeVerifier: 'v',
      redirectUri: 'http://127.0.0.1/callback',
      fetchFn,
    });
    const ours = { headers: new Headers(), body: new URLSearchParams(), url: metadata.token_endpoint };
    await applyClientAuthentication(chooseClientAuthMethod(client, metadata.token_endpoint_auth_methods_supported), client, ours);
    assert.ok(sdkHeader?.startsWith('Basic '), 'the SDK sent Basic');
    assert.equal(ours.headers.get('authorization'), sdkHeader, JSON.stringify(client));
  }
});

test('client authentication applied: Basic in the header (id:secret raw, base64), post and none in the body, a signed assertion by the signer', async () => {
  const request = () => ({
    headers: new Headers(),
    body: new URLSearchParams({ grant_type: 'refresh_token' }),
    url: 'https://as.example.com/token',
  });
  const base64Secret = { client_id: 'app-1', client_secret: 'q+8/Zw==' };
  const basic = request();
  await applyClientAuthentication('client_secret_basic', base64Secret, basic);
  const sent = Buffer.from(basic.headers.get('authorization').replace(/^Basic /, ''), 'base64').toString('utf8');
  assert.equal(sent, 'app-1:q+8/Zw==', 'the secret as it is: not %2B, %2F, %3D');
  assert.equal(basic.headers.get('authorization'), basicCredentials('app-1', 'q+8/Zw=='));
  assert.equal(basic.body.toString(), 'grant_type=refresh_token', 'no credentials in the body');

  const post = request();
  await applyClientAuthentication('client_secret_post', confidential, post);
  assert.deepEqual([post.headers.has('authorization'), post.body.get('client_id'), post.body.get('client_secret')], [false, 'app', 'shh']);

  const none = request();
  await applyClientAuthentication('none', publicClient, none);
  assert.deepEqual([none.body.get('client_id'), none.body.has('client_secret')], ['app', false]);

  const signed = request();
  const calls = [];
  await applyClientAuthentication(
    'private_key_jwt',
    publicClient,
    { ...signed, metadata: { issuer: 'https://as.example.com/' } },
    async (headers, body, url, metadata) => {
      calls.push([url, metadata.issuer]);
      body.set('client_assertion', 'jwt');
    },
  );
  assert.deepEqual(calls, [['https://as.example.com/token', 'https://as.example.com/']]);
  assert.equal(signed.body.get('client_assertion'), 'jwt');
  await assert.rejects(applyClientAuthentication('private_key_jwt', publicClient, request()), /private key/);
});

// --- The device flow's polling (RFC 8628 §3.5) -------------------------------------------

/**
 * The device flow against a scripted authorization server on the mock clock: `answers` are
 * the token endpoint's, one per poll (the last repeats). Returns the outcome and the time
 * of each poll, in ms after the start.
 */
async function deviceFlowOn(t, answers, { interval = 1, expiresIn = 60 } = {}) {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: T0 });
  const polls = [];
  const fetchFn = async (url) => {
    if (url.endsWith('/device')) {
      return Response.json({
        device_code: 'dc_123456',
        user_code: 'ABCD-EFGH',
        verification_uri: 'https://as.example.com/device',
        expires_in: expiresIn,
        interval,
      });
    }
    const answer = answers[Math.min(polls.length, answers.length - 1)];
    polls.push(Date.now() - T0);
    if (answer instanceof Error) throw answer;
    return answer === 'tokens'
      ? Response.json({ access_token: 'at', token_type: 'Bearer' })
      : Response.json({ error: answer }, { status: answer === 'boom' ? 502 : 400 });
  };
  const shown = [];
  let outcome;
  runDeviceFlow({
    deviceEndpoint: 'https://as.example.com/device',
    tokenEndpoint: 'https://as.example.com/token',
    client: { client_id: 'tv' },
    fetchFn,
    show: (text) => shown.push(text),
    serverName: 'remote',
    authenticate: () => {},
  }).then(
    (tokens) => (outcome = { tokens }),
    (error) => (outcome = { error }),
  );
  // The clock moves a second at a time, each step once the flow has gone as far as it can.
  for (let second = 0; second < 120 && !outcome; second++) {
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    if (!outcome) t.mock.timers.tick(1000);
  }
  for (let i = 0; i < 5 && !outcome; i++) await new Promise((resolve) => setImmediate(resolve));
  return { ...outcome, polls, shown };
}

test('device flow: polls at the interval while pending, and slow_down adds 5 s to it from then on', async (t) => {
  const { tokens, polls, shown } = await deviceFlowOn(t, ['authorization_pending', 'slow_down', 'authorization_pending', 'tokens']);
  assert.equal(tokens.access_token, 'at');
  assert.deepEqual(polls, [1000, 2000, 8000, 14000]);
  assert.match(shown[0], /open https:\/\/as\.example\.com\/device on any device and enter the code ABCD-EFGH/);
});

test('device flow: a denial and an expired code end it with what happened; a code past its lifetime is not polled again', async (t) => {
  const denied = await deviceFlowOn(t, ['authorization_pending', 'access_denied']);
  assert.equal(denied.error.message, 'the login was denied at the verification page');
  t.mock.timers.reset();
  const expired = await deviceFlowOn(t, ['authorization_pending'], { expiresIn: 3 });
  assert.match(expired.error.message, /the code expired before it was approved; run the command again/);
  assert.deepEqual(expired.polls, [1000, 2000, 3000], 'no poll after the code expired');
  t.mock.timers.reset();
  const told = await deviceFlowOn(t, ['authorization_pending', 'expired_token']);
  assert.equal(told.error.oauthError, 'expired_token');
});

test('device flow: a server error or a network blip is polled through; an unknown error ends it naming it', async (t) => {
  const { TransientAuthError } = await import('../dist/shared/errors.js');
  const through = await deviceFlowOn(t, ['boom', new TransientAuthError('network'), 'tokens']);
  assert.equal(through.tokens.access_token, 'at');
  assert.deepEqual(through.polls, [1000, 2000, 3000]);
  t.mock.timers.reset();
  const odd = await deviceFlowOn(t, ['unsupported_grant_type']);
  assert.match(odd.error.message, /HTTP 400 unsupported_grant_type/);
});

// --- A token session's refreshes ---------------------------------------------------------

const SERVER = 'https://mcp.example.com/mcp';

/** A token session on a real store directory; the grants are stand-ins that count refreshes. */
function session(store, { refuse } = {}) {
  const refreshes = [];
  const grants = {
    renewsByGrant: () => false,
    renew: async () => assert.fail('no renewal by a grant here'),
    async refresh(refreshToken) {
      refreshes.push(refreshToken);
      if (refuse) throw new InvalidGrantError('refresh token is not valid');
      const n = refreshes.length;
      return {
        access_token: `at_new_${refreshToken}_${n}`,
        refresh_token: `rt_new_${refreshToken}_${n}`,
        token_type: 'Bearer',
        obtained_at: Date.now(),
        expires_at: Date.now() + 3_600_000,
      };
    },
  };
  const tokens = new TokenSession({
    url: SERVER,
    store,
    flows: new FlowLog(quiet),
    grants,
    refreshAttempts: 1,
    lockTimeoutMs: 5000,
    configuredClient: false,
  });
  return { tokens, refreshes };
}

const hourToken = (now) => ({
  access_token: 'at_first',
  refresh_token: 'rt_first',
  token_type: 'Bearer',
  obtained_at: now,
  expires_at: now + 3_600_000,
});

test('token session: the access token is used as it is until a minute before it expires; then refreshed once, before use, and stored first', async (t) => {
  const now = Date.now();
  t.mock.timers.enable({ apis: ['Date'], now });
  const store = new TokenStore(tempDir('gw-session-'), quiet);
  await store.writeTokens(SERVER, hourToken(now));
  const { tokens, refreshes } = session(store);
  t.mock.timers.tick(3_539_000);
  assert.equal(await tokens.accessToken(), 'at_first');
  assert.deepEqual(refreshes, []);
  t.mock.timers.tick(1000);
  const [a, b] = await Promise.all([tokens.accessToken(), tokens.accessToken()]);
  assert.deepEqual(refreshes, ['rt_first'], 'one refresh for both requests');
  assert.equal(a, 'at_new_rt_first_1');
  assert.equal(b, a);
  assert.equal((await store.readTokens(SERVER)).refresh_token, 'rt_new_rt_first_1');
});

test('token session: a sibling process that refreshed first is followed, so a rotating refresh token is never replayed', async (t) => {
  const now = Date.now();
  t.mock.timers.enable({ apis: ['Date'], now });
  const dir = tempDir('gw-session-');
  await new TokenStore(dir, quiet).writeTokens(SERVER, hourToken(now));
  // Two processes, each with its own store object on the same directory, both holding the first tokens.
  const first = session(new TokenStore(dir, quiet));
  const second = session(new TokenStore(dir, quiet));
  assert.equal(await first.tokens.accessToken(), 'at_first');
  assert.equal(await second.tokens.accessToken(), 'at_first');
  t.mock.timers.tick(3_600_000);
  assert.equal(await first.tokens.accessToken(), 'at_new_rt_first_1');
  assert.equal(await second.tokens.accessToken(), 'at_new_rt_first_1', "the sibling's token, from the store");
  assert.deepEqual([first.refreshes, second.refreshes], [['rt_first'], []]);
  // A 401 for the token the sibling already replaced: that one is used, not another refresh.
  assert.equal((await second.tokens.refresh('at_first')).access_token, 'at_new_rt_first_1');
  assert.deepEqual(second.refreshes, []);
});

test('token session: a refused refresh token (invalid_grant) drops the stored tokens: no token to send, a login is needed', async (t) => {
  const now = Date.now();
  t.mock.timers.enable({ apis: ['Date'], now });
  const store = new TokenStore(tempDir('gw-session-'), quiet);
  await store.writeTokens(SERVER, hourToken(now));
  const { tokens, refreshes } = session(store, { refuse: true });
  t.mock.timers.tick(3_600_000);
  assert.equal(await tokens.accessToken(), undefined);
  assert.deepEqual(refreshes, ['rt_first']);
  assert.equal(await store.readTokens(SERVER), undefined);
  assert.equal(tokens.tokens, undefined);
});
