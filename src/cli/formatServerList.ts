import type { Downstream } from '../downstream/downstream.js';
import { exposedToolName } from '../gateway/toolNames.js';

export interface ServerReport {
  name: string;
  transport: string;
  target: string;
  state: string;
  reason?: string;
  /** A failure's stable code (src/shared/errors.ts), e.g. `identity_assertion_denied`, for scripts to act on. */
  code?: string;
  authorizationUrl?: string;
  /** When the tools shown were cached (the server has not answered in this run). */
  fromCache?: string;
  tools: Array<{ name: string; exposedAs: string; description?: string }>;
}

export function reportServer(server: Downstream): ServerReport {
  const config = server.config;
  const state = server.state;
  return {
    name: server.name,
    transport: server.transportKind,
    target: config.kind === 'stdio' ? [config.command, ...config.args].join(' ') : config.url,
    state: state.status,
    reason: 'reason' in state ? state.reason : undefined,
    code: 'code' in state ? state.code : undefined,
    authorizationUrl: 'authorizationUrl' in state ? state.authorizationUrl : undefined,
    fromCache: server.fromCache ? new Date(server.cachedAt!).toISOString() : undefined,
    tools: server.tools.map((tool) => ({
      name: tool.name,
      exposedAs: exposedToolName(server.name, tool.name),
      description: tool.description,
    })),
  };
}

const MARK: Record<string, string> = { ready: '✓', failed: '✗', 'needs-auth': '!', disabled: '-', connecting: '…', reconnecting: '↻' };

/** The human view of `gateway list`: one block per server, what to do when it is not ready. */
export function formatServerList(configPath: string, reports: ServerReport[]): string {
  const lines = [`Config: ${configPath}`, ''];
  const width = Math.max(4, ...reports.map((r) => r.name.length));
  for (const report of reports) {
    const head = `${MARK[report.state] ?? '?'} ${report.name.padEnd(width)}  ${report.transport.padEnd(15)}  ${report.state}`;
    lines.push(report.state === 'ready' ? `${head} (${report.tools.length} tool${report.tools.length === 1 ? '' : 's'})` : head);
    lines.push(`    ${report.target}`);
    if (report.reason) lines.push(`    ${report.reason}`);
    if (report.authorizationUrl) lines.push(`    log in: ${report.authorizationUrl}`);
    if (report.fromCache) lines.push(`    tools shown from the catalog cache of ${report.fromCache}`);
    if (report.tools.length) lines.push(...wrap(report.tools.map((t) => t.exposedAs).join(', '), 96, '    tools: ', '           '));
  }
  const enabled = reports.filter((r) => r.state !== 'disabled');
  const ready = enabled.filter((r) => r.state === 'ready').length;
  lines.push('', `${ready} of ${enabled.length} server${enabled.length === 1 ? '' : 's'} ready.`);
  return `${lines.join('\n')}\n`;
}

function wrap(text: string, width: number, first: string, rest: string): string[] {
  const out: string[] = [];
  let line = first;
  for (const word of text.split(' ')) {
    if (line.length + word.length > width && line.trim().length > first.trim().length) {
      out.push(line.trimEnd());
      line = rest;
    }
    line += `${word} `;
  }
  out.push(line.trimEnd());
  return out;
}
