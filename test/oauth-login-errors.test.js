// Issue 14, first part: a failed login says what happened — the server, the step, the host and
// the reason in words — and never ends in an empty reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stdioServer, killedAtEnd } from './helpers/gatewayProcess.js';
import { oauthHome, startOAuthGateway, waitFor, trackedFixtures } from './helpers/oauthGateway.js';

const running = killedAtEnd();
const fixture = trackedFixtures({ autoApprove: true });
const failedLine = /\[remote\] (?:warn: )?failed: (?:login failed: )?(remote: .*)/;

for (const [label, knobs, step, reason] of [
  [
    'its metadata redirects to another origin',
    { asMetadataFault: 'redirect' },
    'authorization-server metadata',
    /redirected to another origin \(https:\/\/elsewhere\.example\) \(not followed\)/,
  ],
  [
    'its metadata is over 1 MiB',
    { asMetadataFault: 'huge' },
    'authorization-server metadata',
    /answer larger than 1 MiB from http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-authorization-server/,
  ],
  [
    'its registration endpoint answers 404',
    { registrationFault: 'not-found' },
    'registration',
    /HTTP 404 from http:\/\/127\.0\.0\.1:\d+\/register/,
  ],
  [
    'its token endpoint answers 500 with a bare server_error (an empty SDK error)',
    { tokenFault: { kind: 'bare', grant: 'authorization_code' } },
    'token',
    /HTTP 500 from http:\/\/127\.0\.0\.1:\d+\/token/,
  ],
]) {
  test(`a login where ${label} fails naming the server, the step (${step}), the host and the reason`, async () => {
    const f = await fixture(knobs);
    const gw = await startOAuthGateway(oauthHome(), { remote: { url: f.mcpUrl }, local: stdioServer('local') }, { waitForPrefix: 'local' });
    running.push(gw);
    await waitFor(() => failedLine.test(gw.stderr()), { what: 'the failure' });
    const said = gw.stderr().match(failedLine)[1];
    const host = new URL(f.issuer).host.replace(/\./g, '\\.');
    assert.match(said, new RegExp(`^remote: ${step} at ${host} failed: `));
    assert.match(said, reason);
    assert.doesNotMatch(said, /failed:\s*\[login \w+\]/, 'never an empty reason');
    await gw.close();
  });
}
