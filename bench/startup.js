// The first tools/list after spawn, as Claude Desktop starts the gateway (`npm run bench -- --startup`).
import { readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { FIXTURE, GATEWAY, tempDir, writeConfig } from './paths.js';

export const STARTUP_RUNS = 3;

export function rssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
}

/**
 * As Claude Desktop starts the gateway: spawn, `initialize`, one `tools/list`. Spawn →
 * initialize answered, and spawn → that first list, which must hold every tool of `count`
 * servers (cold: a new data directory; warm: the one a previous run left its catalogs in).
 */
async function startup(config, count, home, toolsPerServer) {
  const client = new Client({ name: 'bench', version: '1' });
  const env = { ...process.env, MCP_GATEWAY_HOME: home };
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [GATEWAY, 'serve', '--config', config],
    env,
    stderr: 'ignore',
  });
  const start = performance.now();
  await client.connect(transport);
  const initialized = performance.now() - start;
  const { tools } = await client.listTools();
  const firstList = performance.now() - start;
  if (tools.length !== count * toolsPerServer + 1)
    throw new Error(`first tools/list held ${tools.length} tools, not ${count * toolsPerServer + 1}`);
  const idleRss = (await new Promise((resolve) => setTimeout(resolve, 500)), rssMb(transport.pid)); // (also lets the catalogs be saved)
  await client.close();
  return { initialized, firstList, idleRss };
}

/** Cold and warm first lists, `STARTUP_RUNS` of each, side by side with the servers alone. */
export async function startups(count, toolsPerServer) {
  const config = writeConfig(count);
  const runs = { cold: [], warm: [], alone: [], initialized: [], rss: [] };
  for (let i = 0; i < STARTUP_RUNS; i++) {
    const home = tempDir('gw-bench-home-');
    const cold = await startup(config, count, home, toolsPerServer);
    const warm = await startup(config, count, home, toolsPerServer);
    runs.cold.push(cold.firstList);
    runs.warm.push(warm.firstList);
    runs.initialized.push(cold.initialized);
    runs.rss.push(cold.idleRss);
    runs.alone.push(await serversAlone(count));
  }
  return runs;
}

/** How long `count` fixture servers take to start and list their tools on their own, all at once. */
async function serversAlone(count) {
  const start = performance.now();
  const clients = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const client = new Client({ name: 'bench', version: '1' });
      await client.connect(
        new StdioClientTransport({ command: process.execPath, args: [FIXTURE], env: { ...process.env, FIXTURE_NAME: `s${i}` } }),
      );
      await client.listTools();
      return client;
    }),
  );
  const elapsed = performance.now() - start;
  await Promise.all(clients.map((client) => client.close()));
  return elapsed;
}
