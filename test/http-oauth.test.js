// `gateway.http.auth`: the gateway as an OAuth-protected MCP server in front of one identity
// provider (the test authorization server, with a UserInfo endpoint), driven by the SDK's own
// client auth() — and once by a real headless Chromium.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { auth, discoverAuthorizationServerMetadata, refreshAuthorization } from '@modelcontextprotocol/sdk/client/auth.js';
import { startOAuthFixture } from './fixtures/oauth/authServer.js';
import { stdioServer } from './helpers/gatewayProcess.js';
import { request, trackedHttpGateways } from './helpers/httpGateway.js';
import { chromiumPath, testNeeding } from './helpers/prerequisites.js';

const startHttpGateway = trackedHttpGateways();
const STATIC_CLIENT = { client_id: 'gateway-front', client_secret: 'front-secret', redirect_uris: ['http://127.0.0.1/oauth/callback'] };
const ALICE = { sub: 'user-1', email: 'alice@example.com', email_verified: true };
const MALLORY = { sub: 'user-2', email: 'mallory@example.com', email_verified: true };

const idp = await startOAuthFixture({ name: 'idp', userinfo: true, autoApprove: true, dcr: false, clients: [STATIC_CLIENT] });
after(() => idp.close());

/** A gateway whose HTTP front logs users in at the test identity provider, admitting alice (by email) and subject user-9. */
function oauthGateway() {
  return startHttpGateway(
    {
      mcpServers: { one: stdioServer('one') },
      gateway: {
        http: {
          auth: {
            issuer: idp.issuer,
            clientId: '${IDP_CLIENT_ID}',
            clientSecret: '${IDP_CLIENT_SECRET}',
            allow: ['Alice@example.com', 'user-9'],
          },
        },
      },
    },
    { env: { IDP_CLIENT_ID: STATIC_CLIENT.client_id, IDP_CLIENT_SECRET: STATIC_CLIENT.client_secret } },
  );
}

/** The SDK's OAuthClientProvider, in memory, for an MCP client whose redirect target is `redirectUrl`. */
function clientProvider(redirectUrl = 'http://127.0.0.1:9/callback') {
  const saved = {};
  return {
    saved,
    redirectUrl,
    clientMetadata: {
      client_name: 'test client',
      redirect_uris: [redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    },
    state: () => 'client-state',
    clientInformation: () => saved.client,
    saveClientInformation: (client) => void (saved.client = client),
    tokens: () => saved.tokens,
    saveTokens: (tokens) => void (saved.tokens = tokens),
    redirectToAuthorization: (url) => void (saved.authorizationUrl = url),
    saveCodeVerifier: (verifier) => void (saved.verifier = verifier),
    codeVerifier: () => saved.verifier,
  };
}

/** Follows one redirect by hand; returns the response (not followed further). */
const visit = (url, init = {}) => fetch(url, { redirect: 'manual', ...init });

/** The browser's part, as a person would do it: the gateway's consent page (approve), the identity provider (approves at once), back to the client. */
async function approveInBrowser(authorizationUrl, decision = 'approve') {
  const consent = await visit(authorizationUrl);
  assert.equal(consent.status, 200);
  assert.equal(consent.headers.get('x-frame-options'), 'DENY');
  const page = await consent.text();
  assert.match(page, /test client/);
  const login = /name="login" value="([^"]+)"/.exec(page)[1];
  const form = new URLSearchParams({ login, decision });
  let response = await visit(new URL('/oauth/consent', authorizationUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form,
  });
  // To the identity provider and back to the gateway, until the client's redirect_uri.
  while (response.status === 302 && !response.headers.get('location').startsWith('http://127.0.0.1:9/')) {
    response = await visit(response.headers.get('location'));
  }
  assert.equal(response.status, 302, `ended at ${response.status}: ${await response.text()}`);
  return new URL(response.headers.get('location'));
}

/** A whole login with the SDK's auth(): registration, consent, the identity provider, the code exchange. */
async function logIn(gateway, provider = clientProvider()) {
  assert.equal(await auth(provider, { serverUrl: gateway.url }), 'REDIRECT');
  const back = await approveInBrowser(provider.saved.authorizationUrl);
  const code = back.searchParams.get('code');
  if (!code) return { provider, back };
  assert.equal(back.searchParams.get('state'), 'client-state');
  assert.equal(await auth(provider, { serverUrl: gateway.url, authorizationCode: code }), 'AUTHORIZED');
  return { provider, back };
}

test('an admitted user logs in through the gateway (DCR, consent, the identity provider, PKCE) and the client uses its tools', async () => {
  idp.knobs.user = ALICE;
  const gateway = await oauthGateway();
  const unauthorized = await request(gateway, '/mcp', { token: null, body: {} });
  assert.equal(unauthorized.status, 401);
  assert.match(
    unauthorized.headers['www-authenticate'],
    /resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource\/mcp"/,
  );
  const resource = await (await fetch(`${gateway.origin}/.well-known/oauth-protected-resource/mcp`)).json();
  assert.equal(resource.resource, gateway.url);
  assert.deepEqual(resource.authorization_servers, [`${gateway.origin}/`]);
  const metadata = await discoverAuthorizationServerMetadata(gateway.origin);
  assert.ok(metadata.registration_endpoint && metadata.revocation_endpoint, 'registration and revocation offered');

  const { provider } = await logIn(gateway);
  assert.ok(provider.saved.tokens.access_token && provider.saved.tokens.refresh_token);
  const client = new Client({ name: 'oauth-client', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(gateway.url), { authProvider: provider }));
  const result = await client.callTool({ name: 'one__echo', arguments: { text: 'through oauth' } });
  assert.equal(result.content[0].text, 'one:through oauth');
  await client.close();
  assert.match(gateway.stderr(), /audit: granted client "test client" \([^)]+\) to alice@example\.com \(subject user-1\), scopes \(none\)/);
  const clientIds = idp.records.tokenRequests.map((entry) => entry.client_id);
  assert.ok(
    clientIds.length && clientIds.every((id) => id === STATIC_CLIENT.client_id),
    'the identity provider only ever saw the static client',
  );
  assert.notEqual(provider.saved.client.client_id, STATIC_CLIENT.client_id, 'the client got credentials of its own');
});

test('a user the allow-list does not name is refused, back at the client, and the refusal is an audit line', async () => {
  idp.knobs.user = MALLORY;
  const gateway = await oauthGateway();
  const { back, provider } = await logIn(gateway);
  assert.equal(back.searchParams.get('error'), 'access_denied');
  assert.equal(back.searchParams.get('code'), null);
  assert.equal(provider.saved.tokens, undefined);
  assert.match(gateway.stderr(), /audit: refused mallory@example\.com \(subject user-2\) for client "test client"/);
  idp.knobs.user = { sub: 'user-9', email: 'nine@example.com', email_verified: false };
  const bySubject = await logIn(gateway);
  assert.ok(bySubject.provider.saved.tokens?.access_token, 'admitted by subject');
  idp.knobs.user = { sub: 'user-3', email: 'alice@example.com', email_verified: false };
  const unverified = await logIn(gateway);
  assert.equal(unverified.back.searchParams.get('error'), 'access_denied', 'an email the provider did not verify does not count');
});

test('denied at the consent page: the client hears access_denied and the identity provider is never asked', async () => {
  idp.knobs.user = ALICE;
  const gateway = await oauthGateway();
  const provider = clientProvider();
  await auth(provider, { serverUrl: gateway.url });
  const before = idp.records.authorizeRequests.length;
  const back = await approveInBrowser(provider.saved.authorizationUrl, 'deny');
  assert.equal(back.searchParams.get('error'), 'access_denied');
  assert.equal(idp.records.authorizeRequests.length, before);
});

test('refresh rotates the refresh token; using a retired one revokes the login; revocation ends a token', async () => {
  idp.knobs.user = ALICE;
  const gateway = await oauthGateway();
  const { provider } = await logIn(gateway);
  const metadata = await discoverAuthorizationServerMetadata(gateway.origin);
  const first = provider.saved.tokens;
  const second = await refreshAuthorization(gateway.origin, {
    metadata,
    clientInformation: provider.saved.client,
    refreshToken: first.refresh_token,
  });
  assert.notEqual(second.refresh_token, first.refresh_token);
  assert.equal((await request(gateway, '/mcp', { token: second.access_token, body: {} })).status, 400, 'a valid token gets past the check');
  await assert.rejects(
    refreshAuthorization(gateway.origin, { metadata, clientInformation: provider.saved.client, refreshToken: first.refresh_token }),
    /invalid_grant|refresh token/i,
  );
  assert.equal((await request(gateway, '/mcp', { token: second.access_token, body: {} })).status, 401, 'the whole login is revoked');

  const { provider: again } = await logIn(gateway);
  const token = again.saved.tokens.access_token;
  const revoked = await fetch(metadata.revocation_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token, client_id: again.saved.client.client_id }),
  });
  assert.equal(revoked.status, 200);
  assert.equal((await request(gateway, '/mcp', { token, body: {} })).status, 401);
});

test('with OAuth, the local token opens /status (for gateway list) but not /mcp', async () => {
  const gateway = await oauthGateway();
  assert.equal((await request(gateway, '/status', { method: 'GET' })).status, 200);
  assert.equal((await request(gateway, '/mcp', { body: {} })).status, 401);
});

testNeeding(
  'chromium',
  "the whole login in a real headless Chromium: the gateway's consent page, the identity provider's, back to the client",
  async () => {
    idp.knobs.user = ALICE;
    idp.knobs.autoApprove = false;
    const gateway = await oauthGateway();
    const landed = [];
    const target = createServer((req, res) => {
      landed.push(new URL(req.url, 'http://127.0.0.1'));
      res.writeHead(200, { 'content-type': 'text/html' }).end('<p id="done">done</p>');
    });
    await new Promise((resolve) => target.listen(0, '127.0.0.1', resolve));
    const provider = clientProvider(`http://127.0.0.1:${target.address().port}/callback`);
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: ['--no-sandbox', '--disable-gpu'] });
    try {
      assert.equal(await auth(provider, { serverUrl: gateway.url }), 'REDIRECT');
      const page = await browser.newPage();
      await page.goto(provider.saved.authorizationUrl.href);
      await page.click('#approve'); // the gateway's consent page
      await page.waitForURL(new RegExp(`^${idp.asOrigin}`));
      await page.click('#approve'); // the identity provider's
      await page.waitForSelector('#done');
      const code = landed[0].searchParams.get('code');
      assert.ok(code, `landed at ${landed[0]}`);
      assert.equal(await auth(provider, { serverUrl: gateway.url, authorizationCode: code }), 'AUTHORIZED');
      const client = new Client({ name: 'browser-client', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(gateway.url), { authProvider: provider }));
      assert.ok((await client.listTools()).tools.some((tool) => tool.name === 'one__echo'));
      await client.close();
    } finally {
      idp.knobs.autoApprove = true;
      await browser.close();
      target.close();
    }
  },
);

test('gateway.http.auth is checked: no allow-list, an unset variable, an unknown provider are named; an issuer without metadata stops the start', async () => {
  const { runCli, tempDir } = await import('./helpers/gatewayProcess.js');
  const { writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const serveWith = async (auth, env = {}) => {
    const dir = tempDir();
    writeFileSync(join(dir, '.mcp.json'), JSON.stringify({ mcpServers: {}, gateway: { http: { auth } } }));
    return runCli(['serve', '--http', '0', '--config', join(dir, '.mcp.json')], { env });
  };
  const base = { issuer: idp.issuer, clientId: 'id', clientSecret: 'secret', allow: ['a@example.com'] };
  for (const [auth, message] of [
    [{ ...base, allow: [] }, /gateway\.http\.auth\.allow: a non-empty list/],
    [{ ...base, clientSecret: '${NO_SUCH_SECRET}' }, /gateway\.http\.auth\.clientSecret: environment variable NO_SUCH_SECRET is not set/],
    [{ ...base, provider: 'myspace' }, /gateway\.http\.auth\.provider: must be one of oidc, google, github/],
    [{ ...base, issuer: undefined }, /gateway\.http\.auth\.issuer: the identity provider's issuer URL is needed/],
  ]) {
    const result = await serveWith(auth);
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, message);
  }
  const noMetadata = await serveWith({ ...base, issuer: 'http://127.0.0.1:9/' });
  assert.notEqual(noMetadata.status, 0);
  assert.match(noMetadata.stderr, /gateway: /);
});

test("a session is its user's: another user's valid token with its session id finds no session", async () => {
  const gateway = await oauthGateway();
  idp.knobs.user = ALICE;
  const alice = (await logIn(gateway)).provider.saved.tokens.access_token;
  idp.knobs.user = { sub: 'user-9', email: 'nine@example.com', email_verified: true };
  const nine = (await logIn(gateway)).provider.saved.tokens.access_token;
  const initialize = {
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
  };
  const opened = await request(gateway, '/mcp', { token: alice, body: initialize });
  const session = opened.headers['mcp-session-id'];
  await opened.text();
  const headers = { 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' };
  const list = { jsonrpc: '2.0', id: 2, method: 'ping' };
  assert.equal((await request(gateway, '/mcp', { token: nine, headers, body: list })).status, 404);
  assert.equal((await request(gateway, '/mcp', { token: alice, headers, body: list })).status, 200);
});
