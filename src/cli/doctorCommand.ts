import { loadConfig } from '../config/loadConfig.js';
import { createTokenStore, type RuntimeOptions } from './gatewayRuntime.js';
import { errorMessage, Logger } from '../log/logger.js';
import { ConfigNotFoundError } from '../shared/errors.js';
import { checkStorePermissions, type Finding } from './doctorChecks.js';
import { checkIdentityProvider } from './doctorIdentityProvider.js';
import { checkServers } from './doctorServers.js';
import { ExitCode } from './exitCodes.js';

const MARK = { ok: '✓', warn: '!', fail: '✗' } as const;

/**
 * `gateway doctor`: the config, the token store's permissions, and each server: started and
 * connected as `gateway list` does (ready with its tools, or why not), the identity provider
 * of Enterprise-Managed Authorization when there is one, with the static checks
 * that explain (command found, URL reachable, OAuth metadata usable, logged in). Every
 * finding with the fix to apply. Exit 0 when nothing failed (warnings allowed), 1 when
 * something did, 2 when there is no config or it is bad.
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
    show([configProblem(error)]);
    process.stdout.write(`Config\n${out.join('\n')}\n`);
    return ExitCode.UsageOrConfig;
  }
  out.push(`Config: ${config.path}`);
  show([{ level: 'ok', text: `valid; ${config.servers.length} server${config.servers.length === 1 ? '' : 's'}` }]);
  show(config.warnings.map((text) => ({ level: 'warn' as const, text, fix: 'remove or rename the field' })));

  const store = createTokenStore(config, options, new Logger({ level: 'error' }));
  out.push('', `Token store: ${store.root} (${store.mode})`);
  show(await checkStorePermissions(store));

  if (config.gateway.identityProvider) {
    out.push('', `Identity provider: ${config.gateway.identityProvider.issuer}`);
    show(await checkIdentityProvider(config, store));
  }

  out.push('', 'Servers');
  const results = await checkServers(config, store, options);
  for (const [index, server] of config.servers.entries()) {
    out.push(`  ${server.name} (${server.kind === 'stdio' ? 'stdio' : server.url})`);
    show(results[index]!, '    ');
  }
  out.push('', failures ? `${failures} problem${failures === 1 ? '' : 's'} found.` : 'No problems found.');
  process.stdout.write(`${out.join('\n')}\n`);
  return failures ? ExitCode.SomeServersNotReady : ExitCode.Ok;
}

/** No config where one was looked for, or one that cannot be used: what is wrong and what to do. */
function configProblem(error: unknown): Finding {
  if (error instanceof ConfigNotFoundError && !error.explicit) {
    return {
      level: 'fail',
      text: `no config file found; looked for ${error.candidates.join(' and ')}`,
      fix: `create ${error.candidates[0]} (the .mcp.json of Claude Desktop and Claude Code: {"mcpServers": {…}}; see mcp.example.json), or pass one with --config PATH`,
    };
  }
  if (error instanceof ConfigNotFoundError) return { level: 'fail', text: errorMessage(error), fix: 'check the path given with --config' };
  return { level: 'fail', text: errorMessage(error), fix: "correct the file (see mcp.example.json and the README's config reference)" };
}
