import { loadConfig } from '../config/loadConfig.js';
import { createTokenStore, type RuntimeOptions } from '../gateway/gatewayRuntime.js';
import { errorMessage, Logger } from '../log/logger.js';
import { checkHttpServer, checkStdioServer, checkStorePermissions, type Finding } from './doctorChecks.js';
import { ExitCode } from './exitCodes.js';

const MARK = { ok: '✓', warn: '!', fail: '✗' } as const;

/**
 * `gateway doctor`: the config, the token store's permissions, and each server (reachable?
 * its OAuth metadata usable? logged in?), every finding with the fix to apply.
 * Exit 0 when nothing failed (warnings allowed), 1 when something did, 2 for a bad config.
 */
export async function doctor(configPath: string | undefined, options: RuntimeOptions): Promise<number> {
  const out: string[] = [];
  let failures = 0;
  const show = (findings: Finding[], indent = '  ') => {
    for (const finding of findings) {
      if (finding.level === 'fail') failures++;
      out.push(`${indent}${MARK[finding.level]} ${finding.text}`);
      if (finding.fix) out.push(`${indent}    fix: ${finding.fix}`);
    }
  };
  let config;
  try {
    config = loadConfig(configPath);
  } catch (error) {
    process.stdout.write(`Config\n  ✗ ${errorMessage(error)}\n      fix: correct the file (see mcp.example.json and the README's config reference)\n`);
    return ExitCode.UsageOrConfig;
  }
  out.push(`Config: ${config.path}`);
  show([{ level: 'ok', text: `valid; ${config.servers.length} server${config.servers.length === 1 ? '' : 's'}` }]);
  show(config.warnings.map((text) => ({ level: 'warn' as const, text, fix: 'remove or rename the field' })));

  const store = createTokenStore(config, options, new Logger({ level: 'error' }));
  out.push('', `Token store: ${store.root} (${store.mode})`);
  show(await checkStorePermissions(store));

  out.push('', 'Servers');
  process.stderr.write(`Checking ${config.servers.length} server${config.servers.length === 1 ? '' : 's'}…\n`);
  const results = await Promise.all(
    config.servers.map(async (server): Promise<Finding[]> => {
      if (server.disabled) return [{ level: 'ok', text: 'disabled; not checked' }];
      try {
        return server.kind === 'stdio' ? await checkStdioServer(server) : await checkHttpServer(server, store);
      } catch (error) {
        return [{ level: 'fail', text: `check failed: ${errorMessage(error)}` }];
      }
    }),
  );
  for (const [index, server] of config.servers.entries()) {
    out.push(`  ${server.name} (${server.kind === 'stdio' ? 'stdio' : server.url})`);
    show(results[index]!, '    ');
  }
  out.push('', failures ? `${failures} problem${failures === 1 ? '' : 's'} found.` : 'No problems found.');
  process.stdout.write(`${out.join('\n')}\n`);
  return failures ? ExitCode.SomeServersNotReady : ExitCode.Ok;
}
