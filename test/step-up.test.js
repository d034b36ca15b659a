// Step-up (issue 14): a call the server refuses with 403 insufficient_scope waits for a login
// that asks for the scopes held plus those challenged, and is sent again once; refused again,
// it fails saying so, with no second tab. Relayed calls, and calls through the SDK client
// (meta mode's execute_tool), against the test authorization server's `toolScopes` knob.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Logger } from '../dist/log/logger.js';
import { ServerChallenges } from '../dist/oauth/serverChallenges.js';
import { killedAtEnd, startGateway } from './helpers/gatewayProcess.js';
import { oauthHome, oauthEnv, browserLaunches, waitForTools, waitFor, trackedFixtures } from './helpers/oauthGateway.js';

const fixture = trackedFixtures({ autoApprove: true });
const running = killedAtEnd();
async function gateway(env, config, extraEnv = {}) {
  const gw = await startGateway(config, { env: oauthEnv(env, extraEnv) });
  running.push(gw);
  return gw;
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const textOf = (result) => result.content?.map((part) => part.text).join('\n');
const callsOf = (f, text) => f.records.toolCalls.filter((call) => call.text === text);

test('a relayed call that needs a scope the first login did not grant: one step-up login (held ∪ challenged), then the same call once, answered', async () => {
  const f = await fixture({ scopesSupported: ['read'], toolScopes: { echo: ['write'] } });
  const env = oauthHome();
  // A short call timeout: the call waits for the login longer than it, so its timer must stop meanwhile.
  const gw = await gateway(env, { mcpServers: { docs: { url: f.mcpUrl, timeout: 1000 } } }, { FAKE_BROWSER_DELAY_MS: '1500' });
  await waitForTools(gw, 'docs');
  assert.equal(browserLaunches(env).length, 1);
  assert.deepEqual(f.records.authorizeRequests[0].scopes, ['read']);

  // Two calls refused at once share one login; a call in flight that needs nothing more goes on meanwhile.
  const [result, other, slow] = await Promise.all([
    gw.client.callTool({ name: 'docs__echo', arguments: { text: 'stepped' } }),
    gw.client.callTool({ name: 'docs__echo', arguments: { text: 'too' } }),
    gw.client.callTool({ name: 'docs__sleep', arguments: { ms: 600 } }),
  ]);
  assert.equal(textOf(result), 'oauth:stepped', `the call is answered after the step-up:\n${gw.stderr()}`);
  assert.ok(!result.isError);
  assert.equal(textOf(other), 'oauth:too');
  assert.ok(!slow.isError, textOf(slow));
  assert.equal(browserLaunches(env).length, 2, 'exactly one more browser launch');
  assert.deepEqual(f.records.authorizeRequests[1].scopes.sort(), ['read', 'write']);
  assert.deepEqual(
    callsOf(f, 'stepped').map((call) => [call.status, call.scopes.sort().join(' ')]),
    [
      [403, 'read'],
      [200, 'read write'],
    ],
    'refused once, then seen once more with the new token',
  );
  assert.match(gw.stderr(), /needs more permissions \(insufficient_scope: write\)/);

  // The new token serves the next calls: no more logins.
  assert.equal(textOf(await gw.client.callTool({ name: 'docs__echo', arguments: { text: 'after' } })), 'oauth:after');
  assert.equal(browserLaunches(env).length, 2);
});

test('a server that keeps refusing after the step-up: the call fails saying so, no second tab; a later call fails at once', async () => {
  const f = await fixture({ scopesSupported: ['read'], grantableScopes: ['read'], toolScopes: { echo: ['admin'] } });
  const env = oauthHome();
  const gw = await gateway(env, { mcpServers: { docs: { url: f.mcpUrl } } });
  await waitForTools(gw, 'docs');

  const refused = await gw.client.callTool({ name: 'docs__echo', arguments: { text: 'never' } });
  assert.equal(refused.isError, true);
  assert.match(
    textOf(refused),
    /could not complete echo: the server refused this call for want of permissions \(HTTP 403 insufficient_scope\) even after a login for more permissions: it asks for admin, which the login for more permissions already asked for; the authorization server did not grant it; the gateway does not log in again for it/,
  );
  assert.equal(browserLaunches(env).length, 2, 'the step-up tab, and no other');
  assert.deepEqual(f.records.authorizeRequests[1].scopes.sort(), ['admin', 'read']);
  assert.deepEqual(
    callsOf(f, 'never').map((call) => call.status),
    [403, 403],
    'sent again once, not more',
  );

  const again = await gw.client.callTool({ name: 'docs__echo', arguments: { text: 'later' } });
  assert.match(textOf(again), /even after a login for more permissions/);
  assert.deepEqual(
    callsOf(f, 'later').map((call) => call.status),
    [403],
    'no login, not sent again',
  );
  await sleep(500);
  assert.equal(browserLaunches(env).length, 2, 'no second tab');
  // Calls that need no more than is held still work.
  assert.equal(textOf(await gw.client.callTool({ name: 'docs__add', arguments: { a: 1, b: 2 } })), '3');
});

test("meta mode's execute_tool (a request through the SDK client): held for the step-up login, then sent again once", async () => {
  const f = await fixture({ scopesSupported: ['read'], toolScopes: { echo: ['write'] } });
  const env = oauthHome();
  const gw = await gateway(env, { gateway: { mode: 'meta' }, mcpServers: { docs: { url: f.mcpUrl } } });
  const servers = async () => JSON.parse(textOf(await gw.client.callTool({ name: 'list_servers', arguments: {} }))).servers;
  await waitFor(async () => (await servers()).find((s) => s.name === 'docs')?.state === 'ready', { what: 'docs ready', timeoutMs: 20_000 });

  const result = await gw.client.callTool({ name: 'execute_tool', arguments: { server: 'docs', tool: 'echo', args: { text: 'meta' } } });
  assert.equal(textOf(result), 'oauth:meta', gw.stderr());
  assert.equal(browserLaunches(env).length, 2);
  assert.deepEqual(f.records.authorizeRequests[1].scopes.sort(), ['read', 'write']);
  assert.deepEqual(
    callsOf(f, 'meta').map((call) => call.status),
    [403, 200],
  );
});

test('a server that requires more scopes for everything (403 on every request): the call is held, answered after the step-up, and the server stays ready', async () => {
  const f = await fixture({ scopesSupported: ['read'] });
  const env = oauthHome();
  const gw = await gateway(env, { mcpServers: { docs: { url: f.mcpUrl } } });
  await waitForTools(gw, 'docs');
  f.knobs.requiredScopes = ['read', 'write'];
  assert.equal(textOf(await gw.client.callTool({ name: 'docs__echo', arguments: { text: 'all' } })), 'oauth:all', gw.stderr());
  assert.deepEqual(f.records.authorizeRequests[1].scopes.sort(), ['read', 'write']);
  assert.equal(browserLaunches(env).length, 2);
  assert.match(gw.stderr(), /needs more permissions \(insufficient_scope: read write\)/);

  // One that then wants yet another scope within the minute: the browser-tab limit (two a minute) holds, and the call's error says so.
  f.knobs.requiredScopes = ['admin'];
  const refused = await gw.client.callTool({ name: 'docs__echo', arguments: { text: 'x' } });
  assert.match(
    textOf(refused),
    /needs more permissions for this, and the login for them failed \(docs needed two logins within a minute; not opening another browser tab.*\); the call was not sent again/,
  );
  await sleep(1000);
  assert.equal(browserLaunches(env).length, 2, 'no third tab');
  assert.equal(f.records.authorizeRequests.length, 2);
  const status = await gw.client.callTool({ name: 'gateway__status', arguments: {} });
  assert.equal(status.structuredContent.servers.find((server) => server.name === 'docs').state, 'ready');
});

test('the same challenge after a step-up brings no login, and says why; a scope not asked for yet does', () => {
  const challenges = new ServerChallenges();
  const quiet = new Logger({ level: 'error' });
  challenges.forbidden('Bearer error="insufficient_scope", scope="write"', quiet);
  assert.equal(challenges.noStepUp, undefined);
  assert.equal(challenges.takeStepUp(), true);
  challenges.forbidden('Bearer error="insufficient_scope", scope="write"', quiet);
  assert.equal(challenges.takeStepUp(), false, 'no second login for the same scope');
  assert.match(
    challenges.noStepUp,
    /asks for write, which the login for more permissions already asked for; the authorization server did not grant it/,
  );
  challenges.forbidden('Bearer error="invalid_token"', quiet);
  assert.equal(challenges.noStepUp, undefined, 'only the last 403 counts');
  challenges.forbidden('Bearer error="insufficient_scope", scope="write admin"', quiet);
  assert.equal(challenges.takeStepUp(), true, 'admin was not asked for yet');
  assert.equal(challenges.stepUpScope, 'write admin');
});
