#!/usr/bin/env node
// Benchmark: what Enterprise-Managed Authorization costs, side by side with per-server logins.
// `gateway list` (spawn → every server ready → exit) on three OAuth-protected servers:
//   browser ×3    each server logged in to in the (stand-in) browser: discovery, registration, PKCE, code exchange
//   ID-JAG cold   one sign-in at the test identity provider, then an exchange + JWT bearer grant per server
//   ID-JAG warm   the stored tokens of every server (no request to the IdP)
//   ID-JAG renew  every server's stored token expired: a silent new exchange per server, no browser
// Medians of RUNS (min–max), in ms. The browser is the tests' stand-in, which approves at once.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOAuthFixture } from '../test/fixtures/oauth/authServer.js';
import { startIdentityProvider } from '../test/fixtures/idp/identityProvider.js';

const GATEWAY = new URL('../bin/gateway.js', import.meta.url).pathname;
const FAKE_BROWSER = new URL('../test/helpers/fakeBrowser.js', import.meta.url).pathname;
const RUNS = Number(process.env.RUNS) || 5;
const NAMES = ['a', 'b', 'c'];

function listTimed(configPath, home) {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [GATEWAY, 'list', '--json', '--config', configPath], {
      env: { ...process.env, MCP_GATEWAY_HOME: home, MCP_GATEWAY_BROWSER: FAKE_BROWSER },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('close', () => {
      const ready = JSON.parse(out).servers.every((server) => server.state === 'ready');
      if (ready) resolve(performance.now() - start);
      else reject(new Error(`not every server was ready: ${out}`));
    });
  });
}

function expireStored(home) {
  const root = join(home, 'servers');
  for (const dir of readdirSync(root)) {
    const file = join(root, dir, 'tokens.json');
    try {
      const tokens = JSON.parse(readFileSync(file, 'utf8'));
      if (tokens.id_token) continue; // The IdP sign-in stays good.
      writeFileSync(file, JSON.stringify({ ...tokens, obtained_at: Date.now() - 3_600_000, expires_at: Date.now() - 1000 }));
    } catch {
      // No tokens in this directory.
    }
  }
}

const summary = (values) => {
  const sorted = [...values].sort((x, y) => x - y);
  const round = (ms) => Math.round(ms);
  return `${round(sorted[Math.floor(sorted.length / 2)])} ms (${round(sorted[0])}–${round(sorted.at(-1))})`;
};

const dir = mkdtempSync(join(tmpdir(), 'gw-bench-idjag-'));
const idp = await startIdentityProvider();
const trusting = [];
const browser = [];
for (const name of NAMES) {
  trusting.push(
    await startOAuthFixture({
      name,
      trustedIdp: { issuer: idp.issuer, jwksUrl: `${idp.issuer}/jwks` },
      clients: [{ client_id: 'gateway', redirect_uris: [] }],
    }),
  );
  browser.push(await startOAuthFixture({ name, autoApprove: true }));
}
const write = (file, config) => (writeFileSync(join(dir, file), JSON.stringify(config)), join(dir, file));
const perServer = write('browser.json', {
  mcpServers: Object.fromEntries(browser.map((f) => [f.name, { url: f.mcpUrl }])),
  gateway: { logLevel: 'error' },
});
const enterprise = write('idjag.json', {
  mcpServers: Object.fromEntries(trusting.map((f) => [f.name, { url: f.mcpUrl, oauth: { clientId: 'gateway' } }])),
  gateway: { logLevel: 'error', identityProvider: { issuer: idp.issuer, clientId: 'gateway' } },
});

const results = { 'browser ×3 (cold)': [], 'ID-JAG cold (one sign-in)': [], 'ID-JAG warm': [], 'ID-JAG renew (3 exchanges)': [] };
for (let run = 0; run < RUNS; run++) {
  const home = (kind) => mkdtempSync(join(dir, `${kind}-${run}-`));
  results['browser ×3 (cold)'].push(await listTimed(perServer, home('browser')));
  const idjagHome = home('idjag');
  results['ID-JAG cold (one sign-in)'].push(await listTimed(enterprise, idjagHome));
  results['ID-JAG warm'].push(await listTimed(enterprise, idjagHome));
  expireStored(idjagHome);
  results['ID-JAG renew (3 exchanges)'].push(await listTimed(enterprise, idjagHome));
}
console.log(`gateway list, 3 OAuth servers, medians of ${RUNS} (min–max):`);
for (const [what, values] of Object.entries(results)) console.log(`  ${what.padEnd(28)} ${summary(values)}`);
for (const fixture of [...trusting, ...browser]) await fixture.close();
await idp.close();
rmSync(dir, { recursive: true, force: true });
