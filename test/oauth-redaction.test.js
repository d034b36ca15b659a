// Redaction covers every secret in every encoding (issue 14): the PKCE verifier, codes, tokens,
// client secrets and device codes are registered as soon as they exist and are caught raw,
// URL-encoded, HTML-escaped, JSON-escaped and as `key: value`. End to end: an authorization
// server that echoes the posted form (HTML-escaped, or as JSON) in its error answer to the code
// exchange; at debug level, nothing it echoed reaches stderr, stdout or the callback page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { redact, registerSecret } from '../dist/log/redact.js';
import { tempDir, writeConfig } from './helpers/gatewayProcess.js';
import { oauthEnv, oauthHome, runCli, trackedFixtures, waitFor } from './helpers/oauthGateway.js';

const fixture = trackedFixtures({ autoApprove: true });

test('a registered secret is redacted raw, URL-encoded, form-encoded, HTML-escaped and JSON-escaped', () => {
  const secret = 'sk+live/9f3&x=y"q<1';
  registerSecret(secret);
  const forms = [
    secret,
    encodeURIComponent(secret),
    new URLSearchParams({ v: secret }).toString().slice(2),
    secret.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;'),
    JSON.stringify(secret).slice(1, -1),
    JSON.stringify({ note: `see ${secret}` }),
  ];
  for (const form of forms) {
    const out = redact(`before ${form} after`);
    assert.ok(!out.includes(form) && !out.includes('9f3'), `${form} → ${out}`);
    assert.match(out, /\[redacted\]/);
  }
});

test('unregistered OAuth secrets are redacted by their keys: form, HTML-escaped form, URL-encoded in a URL, JSON, JSON in JSON, key: value', () => {
  const v = 'VeRiFiEr0123456789abcdefGHIJ';
  const cases = [
    `grant_type=authorization_code&code=c0de1234&code_verifier=${v}`,
    `<pre>grant_type=authorization_code&amp;code=c0de1234&amp;code_verifier=${v}</pre>`,
    `next=%2Fcb%3Fstate%3Dx%26code%3Dc0de1234%26code_verifier%3D${v}`,
    `{"code_verifier":"${v}","code":"c0de1234"}`,
    `{"error_description":"{\\"code_verifier\\":\\"${v}\\",\\"code\\":\\"c0de1234\\"}"}`,
    `code_verifier: ${v}\ncode: c0de1234`,
    inspect({ code_verifier: v, device_code: 'dev1ce-c0de-99', client_secret: 'cs_9a8b7c6d5e' }),
    `client_secret: cs_9a8b7c6d5e, refresh_token = 'rt_55aa66bb77'`,
  ];
  for (const text of cases) {
    const out = redact(text);
    for (const secret of [v, 'c0de1234', 'dev1ce-c0de-99', 'cs_9a8b7c6d5e', 'rt_55aa66bb77'])
      assert.ok(!out.includes(secret), `${secret} in ${out}`);
  }
  // Words that are not credentials are left alone.
  assert.equal(redact('error code: ECONNREFUSED; token: refused by the server'), 'error code: ECONNREFUSED; token: refused by the server');
  assert.equal(redact("{ code: 'ERR_ASSERTION' }"), "{ code: 'ERR_ASSERTION' }");
});

for (const kind of ['echo-html', 'echo-json']) {
  test(`a token endpoint that echoes the posted form (${kind}): no verifier, code or secret on stderr, stdout or the callback page, at debug level`, async () => {
    const secret = 'client-secret-echo-0123456789';
    const f = await fixture({
      tokenFault: { kind, grant: 'authorization_code' },
      dcr: false,
      clients: [{ client_id: 'echo-client', client_secret: secret, redirect_uris: ['http://127.0.0.1/callback'] }],
    });
    const env = oauthHome();
    const pages = join(tempDir('gw-pages-'), 'pages.html');
    const path = writeConfig({ mcpServers: { remote: { url: f.mcpUrl, oauth: { clientId: 'echo-client', clientSecret: '${SECRET}' } } } });
    const out = await runCli(['auth', 'login', 'remote', '--log-level', 'debug', '--config', path], {
      env: oauthEnv(env, { SECRET: secret, FAKE_BROWSER_PAGES: pages }),
    });
    assert.notEqual(out.status, 0);
    // The stand-in browser writes the page after the CLI has sent it (and may have exited).
    await waitFor(() => existsSync(pages) && readFileSync(pages, 'utf8').includes('</html>'), { what: 'the callback page' });
    const page = readFileSync(pages, 'utf8');
    const everything = [out.stdout, out.stderr, page].join('\n');
    assert.match(everything, /could not handle/, `the echo is there (redacted):\n${everything}`);
    const secrets = [...f.records.verifiers, ...f.records.codes, secret];
    assert.ok(f.records.verifiers.length === 1 && f.records.codes.length === 1);
    for (const value of secrets) {
      for (const form of [value, encodeURIComponent(value)])
        assert.ok(!everything.includes(form), `leaked ${value.slice(0, 8)}… in:\n${everything}`);
    }
  });
}

test('secrets are registered as soon as they exist: the PKCE verifier when made, a registered client secret when saved or read, tokens when answered', async () => {
  const { GatewayOAuthProvider } = await import('../dist/oauth/gatewayOAuthProvider.js');
  const { TokenStore, storedTokensFrom } = await import('../dist/oauth/tokenStore.js');
  const { randomBytes } = await import('node:crypto');
  const fresh = (prefix) => `${prefix}${randomBytes(12).toString('hex')}`;
  const store = new TokenStore(tempDir('gw-redact-'));
  const provider = new GatewayOAuthProvider('https://mcp.example.test/mcp', store, undefined, async () => {});
  const verifier = fresh('v');
  provider.saveCodeVerifier(verifier);
  const secret = fresh('s');
  await provider.saveClientInformation({ client_id: 'c1', client_secret: secret, redirect_uris: ['http://127.0.0.1/callback'] });
  const [access, refresh] = [fresh('a'), fresh('r')];
  storedTokensFrom({ access_token: access, refresh_token: refresh, token_type: 'Bearer' });
  for (const value of [verifier, secret, access, refresh])
    assert.equal(redact(`echoed ${value} (no key)`), 'echoed [redacted] (no key)', value);
});
