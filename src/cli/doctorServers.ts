import type { GatewayConfig, ServerConfig, StdioServerConfig } from '../config/types.js';
import type { DownstreamState } from '../downstream/downstreamState.js';
import { createRuntime, type RuntimeOptions } from './gatewayRuntime.js';
import { errorMessage } from '../log/logger.js';
import type { StoredTokens, TokenStore } from '../oauth/tokenStore.js';
import { checkHttpServer, checkStdioServer, fail, ok, type Finding, type HttpCheck } from './doctorChecks.js';
import { loginFinding, needsLogin } from './doctorLogin.js';

/**
 * Every enabled server, checked two ways at once: statically (the command is found, the URL
 * answers, its OAuth metadata is usable), which explains, and by starting and connecting it
 * as `gateway list` does, which is the verdict. Headless: doctor never opens a browser.
 * Returns the findings of each server of the config, in its order.
 */
export async function checkServers(config: GatewayConfig, store: TokenStore, options: RuntimeOptions): Promise<Finding[][]> {
  const before = await Promise.all(config.servers.map((server) => storedLogin(server, store)));
  const [checks, outcomes] = await Promise.all([Promise.all(config.servers.map(staticCheck)), connectEach(config, options)]);
  const after = await Promise.all(config.servers.map((server) => storedLogin(server, store)));
  return config.servers.map((server, index) => {
    if (server.disabled) return [ok('disabled; not checked')];
    const outcome = outcomes.get(server.name)!;
    const login =
      server.kind === 'http'
        ? loginFinding({
            name: server.name,
            before: before[index],
            after: after[index],
            asksForLogin: checks[index]!.asksForLogin,
            state: outcome.state,
          })
        : undefined;
    const findings = [...checks[index]!.findings, ...(login ? [login] : [])];
    const verdict = connectFinding(
      server,
      outcome,
      findings.some((finding) => finding.level === 'fail'),
    );
    return verdict ? [...findings, verdict] : findings;
  });
}

async function staticCheck(server: ServerConfig): Promise<HttpCheck> {
  if (server.disabled) return { findings: [], asksForLogin: false };
  try {
    return server.kind === 'stdio' ? { findings: await checkStdioServer(server), asksForLogin: false } : await checkHttpServer(server);
  } catch (error) {
    return { findings: [fail(`check failed: ${errorMessage(error)}`)], asksForLogin: false };
  }
}

async function storedLogin(server: ServerConfig, store: TokenStore): Promise<StoredTokens | undefined> {
  return server.kind === 'http' && !server.disabled ? store.readTokens(server.url).catch(() => undefined) : undefined;
}

/** How connecting a server ended. */
interface Outcome {
  state: DownstreamState;
  toolCount: number;
}

/** Starts and connects every enabled server with the runtime `serve` and `list` use, then closes them; progress on stderr. */
async function connectEach(config: GatewayConfig, options: RuntimeOptions): Promise<Map<string, Outcome>> {
  const { downstreams } = createRuntime({ ...config, warnings: [] }, { ...options, headless: true, noBrowser: true, logLevel: 'error' });
  const enabled = downstreams.servers.filter((server) => server.state.status !== 'disabled');
  process.stderr.write(
    `Starting and connecting ${enabled.length} server${enabled.length === 1 ? '' : 's'} as gateway list does (no browser is opened)…\n`,
  );
  const started = Date.now();
  for (const server of enabled) {
    server.on('changed', () => {
      const status = server.state.status;
      if (status === 'ready' || status === 'failed' || status === 'needs-auth')
        process.stderr.write(`  ${server.name}: ${status} (${Date.now() - started} ms)\n`);
    });
  }
  await downstreams.connectAll();
  const outcomes = new Map(downstreams.servers.map((server) => [server.name, { state: server.state, toolCount: server.tools.length }]));
  await downstreams.closeAll();
  return outcomes;
}

/**
 * The verdict of connecting: ready with its tools, or why not, with the fix. Nothing when the
 * static checks already failed (they say why more precisely) or a login is what is missing.
 */
function connectFinding(server: ServerConfig, { state, toolCount }: Outcome, staticFailed: boolean): Finding | undefined {
  if (state.status === 'ready') return ok(`ready: ${toolCount} tool${toolCount === 1 ? '' : 's'}`);
  if (staticFailed || needsLogin(state)) return undefined;
  const reason = 'reason' in state ? state.reason : state.status;
  if (server.kind === 'http')
    return fail(
      `cannot connect: ${reason}`,
      `check mcpServers.${server.name} (url, headers, oauth); \`gateway list --log-level debug\` shows each step`,
    );
  const byHand = `run it by hand to see all it prints: ${commandLine(server)}`;
  if (state.status === 'reconnecting') return fail(`started, then exited: ${reason}`, byHand);
  if (state.status === 'failed' && state.code === 'connect_timeout')
    return fail(`does not start: ${reason}`, `${byHand}; if it is only slow, raise gateway.connectTimeout`);
  return fail(`does not start: ${reason}`, byHand);
}

/** The server's command as a shell line (its env is not shown: it may hold secrets). */
function commandLine(server: StdioServerConfig): string {
  const quote = (word: string) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);
  const line = [server.command, ...server.args].map(quote).join(' ');
  const where = server.cwd ? ` (in ${server.cwd})` : '';
  const env = Object.keys(server.env ?? {}).length ? ` with the variables of mcpServers.${server.name}.env` : '';
  return `${line}${where}${env}`;
}
