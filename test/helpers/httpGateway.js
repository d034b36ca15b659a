// Runs `node bin/gateway.js serve --http 127.0.0.1:0` as a real child process and connects SDK
// clients to it over Streamable HTTP with the gateway's own token, as a client on the same
// machine would.
import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { GATEWAY, killedAtEnd, tempDir, waitFor, writeConfig } from './gatewayProcess.js';

/**
 * The gateway serving `config` over HTTP, once it has said where. Returns { url, token, home,
 * child, stderr(), connect(name, clientOptions), exited, stop() }; every gateway started through
 * `trackedHttpGateways()` is stopped when the test file ends.
 */
export async function startHttpGateway(config, { env = {}, args = [], home = tempDir('gw-home-'), listen = '127.0.0.1:0' } = {}) {
  const configPath = typeof config === 'string' ? config : writeConfig(config);
  const child = spawn(process.execPath, [GATEWAY, 'serve', '--http', listen, '--config', configPath, ...args], {
    env: { ...process.env, MCP_GATEWAY_HOME: home, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const url = await waitFor(() => /serving MCP over Streamable HTTP at (\S+)/.exec(stderr)?.[1] ?? (child.exitCode !== null && 'exited'), {
    what: `the gateway to serve over HTTP; stderr:\n${stderr}`,
  });
  if (url === 'exited') throw new Error(`the gateway exited: ${stderr}`);
  const token = readFileSync(join(home, 'http-token'), 'utf8').trim();
  const clients = [];
  return {
    url,
    origin: new URL(url).origin,
    token,
    home,
    child,
    configPath,
    exited,
    stderr: () => stderr,
    stdout: () => stdout,
    /** An SDK client connected over Streamable HTTP with the token (or `token` given). */
    async connect(name = 'test-client', clientOptions = {}, { token: useToken = token, headers = {} } = {}) {
      const client = new Client({ name, version: '1.0.0' }, clientOptions);
      const notifications = [];
      client.fallbackNotificationHandler = async (notification) => void notifications.push(notification);
      const transport = new StreamableHTTPClientTransport(new URL(url), {
        requestInit: { headers: { authorization: `Bearer ${useToken}`, ...headers } },
      });
      await client.connect(transport);
      clients.push(client);
      return Object.assign(client, { notifications, httpTransport: transport });
    },
    async stop() {
      await Promise.all(clients.map((client) => client.close().catch(() => {})));
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** startHttpGateway for one test file: every gateway it starts is stopped when the file's tests are over. */
export function trackedHttpGateways() {
  const running = killedAtEnd();
  return async (config, options) => {
    const gateway = await startHttpGateway(config, options);
    running.push(gateway);
    return gateway;
  };
}

/**
 * A raw HTTP request to the gateway, for what an SDK client never sends (no token, a wrong
 * one, a foreign Origin or Host: headers fetch would not let through). `token: null` sends
 * none. Resolves to { status, headers (lower-case), text, body } once the answer has begun:
 * `body` is the response stream, `text()` reads it whole.
 */
export function request(gateway, path, { method = 'POST', headers = {}, body, token = gateway.token } = {}) {
  const auth = token === null ? {} : { authorization: `Bearer ${token}` };
  const url = new URL(path, gateway.origin);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, {
      method,
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...(payload ? { 'content-length': Buffer.byteLength(payload) } : {}),
        ...auth,
        ...headers,
      },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      res.setEncoding('utf8');
      resolve({
        status: res.statusCode,
        headers: res.headers,
        body: res,
        async text() {
          let text = '';
          for await (const chunk of res) text += chunk;
          return text;
        },
      });
    });
    req.end(payload);
  });
}

export const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};
