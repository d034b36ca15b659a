// Registration and grant breadth: client ID metadata documents, the client credentials grant
// (secret by Basic or post, private_key_jwt), token endpoint authentication in exchange and
// refresh, 2025-03-26 servers and offline_access. Scope step-up (403 insufficient_scope) is in step-up.test.js.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { join } from 'node:path';
import { killedAtEnd, startGateway, tempDir } from './helpers/gatewayProcess.js';
import { testNeeding } from './helpers/prerequisites.js';
import { oauthHome, oauthEnv, browserLaunches, waitForTools, echo, trackedFixtures } from './helpers/oauthGateway.js';

const fixture = trackedFixtures({ autoApprove: true });
const running = killedAtEnd();
async function gateway(env, servers, { extraEnv = {}, waitForPrefix } = {}) {
  const gw = await startGateway({ mcpServers: servers }, { env: oauthEnv(env, extraEnv) });
  running.push(gw);
  if (waitForPrefix) await waitForTools(gw, waitForPrefix);
  return gw;
}
const requests = (f, grant) => f.records.tokenRequests.filter((r) => r.grant_type === grant);

const SECRET = 's3cret+value/123==';
for (const method of ['client_secret_basic', 'client_secret_post']) {
  test(`client credentials with a secret (${method}, as the server lists; a base64 secret with + / =, sent as it is): no browser, ever; a new token when it expires`, async () => {
    const f = await fixture({
      dcr: false,
      authMethods: [method],
      clients: [{ client_id: 'daemon', client_secret: SECRET, redirect_uris: [] }],
    });
    const env = oauthHome();
    const gw = await gateway(
      env,
      { ci: { url: f.mcpUrl, oauth: { grant: 'client_credentials', clientId: 'daemon', clientSecret: '${CI_SECRET}' } } },
      {
        extraEnv: { CI_SECRET: SECRET },
        waitForPrefix: 'ci',
      },
    );
    f.expireAccessTokens();
    assert.equal(await echo(gw, 'ci'), 'oauth:hi');
    const grants = requests(f, 'client_credentials');
    assert.equal(grants.length, 2, 'a second token after expiry');
    assert.equal(requests(f, 'refresh_token').length, 0, 'never a refresh token');
    assert.ok(grants.every((r) => r.status === 200 && r.auth_method === method && r.client_id === 'daemon'));
    assert.equal(f.records.authorizeRequests.length, 0);
    assert.equal(browserLaunches(env).length, 0);
    assert.ok(!gw.stderr().includes(SECRET));
  });
}

test('private_key_jwt (RFC 7523): client credentials signed with a key from ${ENV}; and in a browser login, the code exchange and every refresh sign too', async () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' });
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' });
  const f = await fixture({
    dcr: false,
    authMethods: ['private_key_jwt'],
    clients: [
      {
        client_id: 'signer',
        redirect_uris: ['http://127.0.0.1/callback'],
        public_key_pem: publicPem,
        token_endpoint_auth_method: 'private_key_jwt',
      },
    ],
  });
  const env = oauthHome();
  const machine = await gateway(
    env,
    { m: { url: f.mcpUrl, oauth: { grant: 'client_credentials', clientId: 'signer', privateKey: '${SIGNING_KEY}' } } },
    {
      extraEnv: { SIGNING_KEY: pem },
      waitForPrefix: 'm',
    },
  );
  assert.equal(await echo(machine, 'm'), 'oauth:hi');
  assert.deepEqual(
    requests(f, 'client_credentials').map((r) => [r.status, r.auth_method]),
    [[200, 'private_key_jwt']],
  );
  assert.ok(!machine.stderr().includes('PRIVATE KEY'));
  await machine.close();

  const person = oauthHome();
  const gw = await gateway(
    person,
    { p: { url: f.mcpUrl, oauth: { clientId: 'signer', privateKey: '${SIGNING_KEY}' } } },
    { extraEnv: { SIGNING_KEY: pem }, waitForPrefix: 'p' },
  );
  f.expireAccessTokens();
  assert.equal(await echo(gw, 'p'), 'oauth:hi');
  assert.deepEqual(
    requests(f, 'authorization_code').map((r) => [r.status, r.auth_method]),
    [[200, 'private_key_jwt']],
  );
  assert.deepEqual(
    requests(f, 'refresh_token').map((r) => [r.status, r.auth_method]),
    [[200, 'private_key_jwt']],
  );
});

test('a 2025-03-26 server: no protected resource metadata → metadata at the server origin; no metadata at all → the default endpoints; each fallback logged', async () => {
  const withMetadata = await fixture({ separateOrigin: false, prmLocation: 'none', requireResource: false });
  const bare = await fixture({ separateOrigin: false, prmLocation: 'none', requireResource: false, asMetadata: false });
  const env = oauthHome();
  const gw = await gateway(env, { old: { url: withMetadata.mcpUrl }, older: { url: bare.mcpUrl } }, { waitForPrefix: 'old' });
  await waitForTools(gw, 'older');
  assert.equal(await echo(gw, 'old'), 'oauth:hi');
  assert.equal(await echo(gw, 'older'), 'oauth:hi');
  assert.match(
    gw.stderr(),
    /\[old login \w+\] no protected resource metadata \(RFC 9728\): using the MCP server's origin .* as its authorization server \(MCP 2025-03-26\)/,
  );
  assert.match(
    gw.stderr(),
    /\[older login \w+\] no authorization server metadata at http:\/\/127\.0\.0\.1:\d+: using the default endpoints \/authorize, \/token and \/register there \(MCP 2025-03-26\)/,
  );
  assert.equal(bare.records.registrations.length, 1);
  assert.equal(new URL(browserLaunches(env).find((u) => u.includes(new URL(bare.mcpUrl).host))).pathname, '/authorize');
});

test('offline_access is asked for when the authorization server lists it, never otherwise', async () => {
  const listed = await fixture({ scopesSupported: ['mcp'], asScopesSupported: ['mcp', 'offline_access'] });
  const unlisted = await fixture({ scopesSupported: ['mcp'] });
  const env = oauthHome();
  const gw = await gateway(env, { a: { url: listed.mcpUrl }, b: { url: unlisted.mcpUrl } }, { waitForPrefix: 'a' });
  await waitForTools(gw, 'b');
  assert.deepEqual(listed.records.authorizeRequests[0].scopes, ['mcp', 'offline_access']);
  assert.deepEqual(unlisted.records.authorizeRequests[0].scopes, ['mcp']);
});

testNeeding(
  'openssl',
  'client ID metadata document: used as client_id where the server supports it (no registration); DCR where it does not',
  async (t) => {
    const dir = tempDir();
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    let documentUrl;
    const https = createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          client_id: documentUrl,
          client_name: 'mcp-oauth-gateway (team)',
          redirect_uris: ['http://127.0.0.1/callback'],
          grant_types: ['authorization_code', 'refresh_token'],
          token_endpoint_auth_method: 'none',
        }),
      );
    });
    await new Promise((resolve) => https.listen(0, '127.0.0.1', resolve));
    t.after(() => https.close());
    documentUrl = `https://127.0.0.1:${https.address().port}/oauth/client.json`;

    const supporting = await fixture({ cimd: true });
    const plain = await fixture({ cimd: false });
    const env = oauthHome();
    const gw = await gateway(
      env,
      {
        a: { url: supporting.mcpUrl, oauth: { clientMetadataUrl: documentUrl } },
        b: { url: plain.mcpUrl, oauth: { clientMetadataUrl: documentUrl } },
      },
      { waitForPrefix: 'a' },
    );
    await waitForTools(gw, 'b');
    assert.equal(supporting.records.authorizeRequests[0].client_id, documentUrl);
    assert.equal(supporting.records.registrations.length, 0);
    assert.ok(supporting.records.clientDocuments.includes(documentUrl));
    supporting.expireAccessTokens();
    assert.equal(await echo(gw, 'a'), 'oauth:hi');
    assert.deepEqual(
      requests(supporting, 'refresh_token').map((r) => [r.status, r.client_id]),
      [[200, documentUrl]],
    );
    assert.equal(plain.records.registrations.length, 1, 'DCR where documents are not supported');
    assert.notEqual(plain.records.authorizeRequests[0].client_id, documentUrl);
  },
);

test('token endpoint authentication as the metadata says: Basic in the code exchange and in every refresh', async () => {
  const f = await fixture({
    dcr: false,
    authMethods: ['client_secret_basic'],
    clients: [{ client_id: 'app', client_secret: 'app-secret-1', redirect_uris: ['http://127.0.0.1/callback'] }],
  });
  const env = oauthHome();
  const gw = await gateway(env, { s: { url: f.mcpUrl, oauth: { clientId: 'app', clientSecret: 'app-secret-1' } } }, { waitForPrefix: 's' });
  f.expireAccessTokens();
  assert.equal(await echo(gw, 's'), 'oauth:hi');
  assert.deepEqual(
    f.records.tokenRequests.map((r) => [r.grant_type, r.auth_method, r.status]),
    [
      ['authorization_code', 'client_secret_basic', 200],
      ['refresh_token', 'client_secret_basic', 200],
    ],
  );
});
