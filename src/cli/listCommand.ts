import type { GatewayConfig } from '../config/types.js';
import { describeState } from '../downstream/downstreamState.js';
import { createRuntime, type RuntimeOptions } from './gatewayRuntime.js';
import { noBrowserReason } from '../oauth/openBrowser.js';
import { ExitCode } from './exitCodes.js';
import { formatServerList, reportServer } from './formatServerList.js';
import { formatFronts, frontsServing } from './servingSessions.js';

/**
 * `gateway list`: connect to every server, show what is ready, what needs login and
 * why anything failed, then disconnect. Exit 0 when every enabled server is ready, 1 otherwise.
 */
export async function list(config: GatewayConfig, options: RuntimeOptions & { json?: boolean }): Promise<number> {
  for (const warning of config.warnings) process.stderr.write(`warning: ${warning}\n`);
  // The progress lines below say what the log would; the log shows only errors unless asked.
  const { downstreams } = createRuntime({ ...config, warnings: [] }, { ...options, logLevel: options.logLevel ?? 'error' });
  const enabled = downstreams.servers.filter((server) => server.state.status !== 'disabled');
  process.stderr.write(`Connecting to ${enabled.length} server${enabled.length === 1 ? '' : 's'}…\n`);
  const printsUrl = options.noBrowser || noBrowserReason() !== undefined;
  for (const server of enabled) {
    const started = Date.now();
    let shown = 'connecting';
    server.on('changed', () => {
      const state = server.state;
      // The login URL once: in this line, unless the gateway prints it with instructions (no browser).
      const line = describeState(printsUrl && state.status === 'needs-auth' ? { ...state, authorizationUrl: undefined } : state);
      if (line === shown) return;
      shown = line;
      process.stderr.write(`  ${server.name}: ${line} (${Date.now() - started} ms)\n`);
    });
  }
  const [fronts] = await Promise.all([frontsServing(config.path), downstreams.connectAll()]);
  const reports = downstreams.servers.map(reportServer);
  await downstreams.closeAll();
  process.stdout.write(
    options.json
      ? `${JSON.stringify({ config: config.path, servers: reports, ...(fronts.length ? { http: fronts } : {}) }, null, 2)}\n`
      : formatServerList(config.path, reports) + formatFronts(fronts),
  );
  return enabled.every((server) => reports.find((r) => r.name === server.name)?.state === 'ready')
    ? ExitCode.Ok
    : ExitCode.SomeServersNotReady;
}
