#!/usr/bin/env node
// Benchmark: what OAuth costs. A gateway in front of the test authorization server's
// protected MCP server, against the same fixture tools on an unprotected HTTP server:
// per-call latency with a bearer token attached, and the time to first tools for a first
// login (discovery, registration, PKCE, the stand-in browser, the code exchange), a restart
// with cached tokens, and a restart whose access token must be refreshed first.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { startHttpMcpServer } from '../test/fixtures/http-server.js';
import { startOAuthFixture } from '../test/fixtures/oauth/authServer.js';

const GATEWAY = new URL('../bin/gateway.js', import.meta.url).pathname;
const FAKE_BROWSER = new URL('../test/helpers/fakeBrowser.js', import.meta.url).pathname;
const CALLS = 2000;
const STARTS = 5;

function config(url) {
  const path = join(mkdtempSync(join(tmpdir(), 'gw-bench-oauth-')), '.mcp.json');
  writeFileSync(path, JSON.stringify({ mcpServers: { remote: { url } }, gateway: { logLevel: 'error' } }));
  return path;
}

/** Spawns a gateway and resolves, with the elapsed ms, once the server's tools are listed. */
async function startTimed(configPath, home) {
  const client = new Client({ name: 'bench', version: '1' });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [GATEWAY, 'serve', '--config', configPath],
    env: { ...process.env, MCP_GATEWAY_HOME: home, MCP_GATEWAY_BROWSER: FAKE_BROWSER },
    stderr: 'ignore',
  });
  const start = performance.now();
  const listed = new Promise((resolve) => {
    const check = async () => {
      const { tools } = await client.listTools();
      if (tools.length) resolve(performance.now() - start);
    };
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => check().catch(() => {}));
    client.oninitialized = () => check().catch(() => {});
  });
  await client.connect(transport);
  return { client, elapsed: await listed };
}

async function latency(client) {
  const samples = [];
  for (let i = 0; i < CALLS + 200; i++) {
    const start = performance.now();
    await client.callTool({ name: 'remote__echo', arguments: { text: 'ping' } });
    if (i >= 200) samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return { p50: samples[Math.floor(samples.length / 2)], p99: samples[Math.floor(samples.length * 0.99)] };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const plain = await startHttpMcpServer({ name: 'oauth' });
const plainStarts = [];
let plainLatency;
for (let run = 0; run < STARTS; run++) {
  const plainGateway = await startTimed(config(plain.url), mkdtempSync(join(tmpdir(), 'gw-bench-home-')));
  plainStarts.push(plainGateway.elapsed);
  if (run === 0) plainLatency = await latency(plainGateway.client);
  await plainGateway.client.close();
}

// The gateway's own per-request cost of OAuth: authorizedFetch around a fetch that answers at once.
const { ServerAuth } = await import('../dist/oauth/serverAuth.js');
const { TokenStore } = await import('../dist/oauth/tokenStore.js');
const { Logger } = await import('../dist/log/logger.js');
const store = new TokenStore(mkdtempSync(join(tmpdir(), 'gw-bench-store-')));
await store.writeTokens('http://127.0.0.1:1/mcp', {
  access_token: 'at_bench_token_value',
  token_type: 'Bearer',
  obtained_at: Date.now(),
  expires_at: Date.now() + 3600_000,
});
const auth = new ServerAuth({ name: 'bench', url: 'http://127.0.0.1:1/mcp', store, log: new Logger({ level: 'error' }) });
const ok = new Response(null, { status: 202 });
const bare = async () => ok;
const wrapped = auth.authorizedFetch(bare);
const perCall = async (fetchFn, n = 200_000) => {
  for (let i = 0; i < 1000; i++)
    await fetchFn('http://127.0.0.1:1/mcp', { method: 'POST', headers: { 'content-type': 'application/json' } });
  const start = performance.now();
  for (let i = 0; i < n; i++) await fetchFn('http://127.0.0.1:1/mcp', { method: 'POST', headers: { 'content-type': 'application/json' } });
  return ((performance.now() - start) / n) * 1000;
};
const bareUs = await perCall(bare);
const wrappedUs = await perCall(wrapped);

const firstLogin = [];
const cached = [];
const refreshed = [];
let oauthLatency;
for (let run = 0; run < STARTS; run++) {
  const fixture = await startOAuthFixture({ autoApprove: true, accessTokenTtl: 2 });
  const home = mkdtempSync(join(tmpdir(), 'gw-bench-home-'));
  const path = config(fixture.mcpUrl);
  const first = await startTimed(path, home);
  firstLogin.push(first.elapsed);
  if (run === 0) {
    fixture.knobs.accessTokenTtl = 3600;
    fixture.revokeAll(); // a long-lived token for the latency run: one refresh, then none
    oauthLatency = await latency(first.client);
    fixture.knobs.accessTokenTtl = 2;
  }
  await first.client.close();
  const again = await startTimed(path, home);
  await again.client.close();
  cached.push(again.elapsed);
  await sleep(2100);
  const afterExpiry = await startTimed(path, home);
  refreshed.push(afterExpiry.elapsed);
  await afterExpiry.client.close();
  await fixture.close();
}
await plain.close();

const ms = (v) => `${v.toFixed(2)} ms`;
const lines = [
  '',
  `tools/call through the gateway to an HTTP server, ${CALLS} sequential calls:`,
  `  no OAuth          p50 ${ms(plainLatency.p50)}  p99 ${ms(plainLatency.p99)}`,
  `  OAuth bearer      p50 ${ms(oauthLatency.p50)}  p99 ${ms(oauthLatency.p99)}  (the protected server is express + requireBearerAuth, the plain one bare node:http)`,
  `  the gateway's own cost per request: ${(wrappedUs - bareUs).toFixed(2)} µs (token lookup, expiry check, header)`,
  `gateway spawn → the server's tools listed (median of ${STARTS}):`,
  `  no OAuth                                          ${ms(median(plainStarts))}`,
  `  first login (discovery, DCR, PKCE, browser, exchange) ${ms(median(firstLogin))}`,
  `  restart with cached tokens                        ${ms(median(cached))}`,
  `  restart with an expired access token (refresh)    ${ms(median(refreshed))}`,
  '',
];
process.stdout.write(lines.join('\n'));
process.exit(0);
