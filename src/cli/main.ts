import { Command, CommanderError, Option } from 'commander';
import { loadConfig } from '../config/loadConfig.js';
import { parseListenAddress } from '../config/jsonChecks.js';
import { LOG_LEVELS, type LogLevel } from '../log/logger.js';
import { TOKEN_STORE_MODES, type TokenStoreMode } from '../oauth/storage/storeBackend.js';
import type { GatewayConfig } from '../config/types.js';
import { VERSION } from '../version.js';
import { ConfigNotFoundError, UsageError } from '../shared/errors.js';
import { ExitCode, exitCodeFor } from './exitCodes.js';

interface GlobalOptions {
  config?: string;
  logLevel?: LogLevel;
  logFile?: string;
  browser?: boolean;
  tokenStore?: TokenStoreMode;
  headless?: boolean;
}

function runtimeOptions(options: GlobalOptions) {
  return {
    logLevel: options.logLevel,
    logFile: options.logFile,
    noBrowser: options.browser === false || options.headless === true,
    headless: options.headless,
    tokenStore: options.tokenStore,
  };
}

/** The config if there is one: auth commands also work on the store alone. */
function loadOptionalConfig(path: string | undefined): GatewayConfig | undefined {
  try {
    return loadConfig(path);
  } catch (error) {
    if (error instanceof ConfigNotFoundError && !error.explicit) return undefined;
    throw error;
  }
}

const tokenStoreOption = () =>
  new Option('--token-store <mode>', 'where OAuth logins are kept (default: gateway.tokenStore, else file)').choices([
    ...TOKEN_STORE_MODES,
  ]);

function buildProgram(): Command {
  const program = new Command();
  program
    .name('gateway')
    .description(
      'One MCP server in front of many: stdio and HTTP servers from an .mcp.json,\n' +
        'their tools exposed as <server>__<tool>, OAuth logins handled for you.',
    )
    .version(VERSION, '-v, --version', 'print the version')
    .helpOption('-h, --help', 'show help for a command')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  const withCommonOptions = (command: Command) =>
    command
      .option('-c, --config <path>', 'config file (default: ./.mcp.json, then config.json in the user config dir)')
      .addOption(new Option('--log-level <level>', 'how much to log on stderr').choices([...LOG_LEVELS]))
      .option('--log-file <path>', 'also append log lines to this file')
      .option('--no-browser', 'print OAuth login URLs on stderr instead of opening a browser')
      .addOption(tokenStoreOption());

  withCommonOptions(
    program
      .command('serve')
      .description('run the gateway as an MCP server on stdio (what Claude Desktop starts)')
      .option('--headless', 'never open a browser or wait for one: servers that need a login fail with what to do')
      .addOption(
        new Option(
          '--mode <mode>',
          'aggregate: every tool as <server>__<tool>; meta: list_servers, search_tools, get_server_tools, execute_tool',
        ).choices(['aggregate', 'meta']),
      )
      .option('--agent <id>', 'the agent this process serves, for the access rules (or MCP_GATEWAY_AGENT)')
      .option('--http [address]', 'serve over Streamable HTTP at [HOST:]PORT (default host 127.0.0.1; alone: gateway.http.listen)')
      .option('--server <name>', 'expose only this configured server, with its own tool names, capabilities and instructions (a bridge)')
      .addHelpText(
        'after',
        `
stdout carries only MCP messages; progress and logs go to stderr.
The gateway answers at once and adds each server's tools as it becomes ready.
With --http, clients connect to http://HOST:PORT/mcp with the token of gateway http-token.

Examples:
  $ gateway serve --config ~/.config/mcp/.mcp.json
  $ gateway serve --log-level debug --log-file /tmp/gateway.log
  $ MCP_GATEWAY_HOME=/srv/gw gateway serve --headless     on a server, with logins imported there
  $ gateway serve --mode meta --agent researcher           four tools to find and call the rest
  $ gateway serve --http 8808                              one gateway for every client on this machine
  $ gateway serve --server notion                          one server, unprefixed (stdio ↔ its HTTP, OAuth done here)

Claude Desktop (claude_desktop_config.json):
  {"mcpServers": {"gateway": {"command": "npx",
     "args": ["-y", "mcp-oauth-gateway", "serve", "--config", "/abs/path/.mcp.json"]}}}\n`,
      ),
  ).action(async (options: GlobalOptions & { mode?: 'aggregate' | 'meta'; agent?: string; http?: string | true; server?: string }) => {
    const config = loadConfig(options.config);
    const { mode, agent, server: bridge } = options;
    if (options.http === undefined) {
      const { serve } = await import('./serveCommand.js');
      return serve(config, { ...runtimeOptions(options), mode, agent, bridge });
    }
    const listen = options.http === true ? config.gateway.http?.listen : parseListenAddress(options.http);
    if (!listen)
      throw new UsageError(
        options.http === true
          ? '--http needs an address ([HOST:]PORT, e.g. --http 8808) or gateway.http.listen in the config'
          : `--http ${options.http}: not [HOST:]PORT (e.g. 8808, 127.0.0.1:8808, [::1]:8808)`,
      );
    const { serveHttp } = await import('./serveHttp.js');
    await serveHttp(config, { ...runtimeOptions(options), mode, agent, bridge, listen });
  });

  program
    .command('http-token')
    .description('print the token clients of serve --http must send (Authorization: Bearer …); made on first use')
    .option('--rotate', 'replace it: a gateway serving refuses the old one from then on')
    .action(async (options: { rotate?: boolean }) => {
      const { httpToken } = await import('./httpTokenCommand.js');
      process.exitCode = await httpToken(options);
    });

  withCommonOptions(
    program
      .command('list')
      .description('connect to every configured server and show its state and tools')
      .option('--json', 'print machine-readable JSON instead of a table')
      .addHelpText(
        'after',
        `
Exit status: 0 when every enabled server is ready, 1 when one is not, 2 for a bad config.

Examples:
  $ gateway list --config mcp.example.json
  $ gateway list --json | jq '.servers[] | {name, state}'\n`,
      ),
  ).action(async (options: GlobalOptions & { json?: boolean }) => {
    const config = loadConfig(options.config);
    const { list } = await import('./listCommand.js');
    process.exitCode = await list(config, { ...runtimeOptions(options), json: options.json });
  });

  const auth = program
    .command('auth')
    .description('see and manage the OAuth logins the gateway holds')
    .addHelpText(
      'after',
      `
Logins are stored per server URL under MCP_GATEWAY_HOME, else the user data directory
(~/.local/share/mcp-oauth-gateway on Linux). No command here ever prints a token.

Examples:
  $ gateway auth status
  $ gateway auth login notion
  $ gateway auth login --idp                     sign in once at gateway.identityProvider (Enterprise-Managed Authorization)
  $ gateway auth export notion --move --passphrase --out notion.login   then, on the server:
  $ MCP_GATEWAY_PASSPHRASE=… gateway auth import --passphrase notion.login
  $ gateway auth logout --all\n`,
    );
  const authCommand = (name: string, description: string) =>
    auth
      .command(name)
      .description(description)
      .option('-c, --config <path>', 'config file (default: ./.mcp.json, then config.json in the user config dir)')
      .addOption(tokenStoreOption());

  authCommand('login', 'log in to a server (or, with --idp, sign in to the identity provider) now, even if a login is stored')
    .argument('[server]', 'an HTTP server of the config')
    .option('--idp', 'sign in to gateway.identityProvider: every server that accepts its ID-JAGs is then authorized without a browser')
    .option('--no-browser', 'print the login URL instead of opening a browser')
    .option('--paste', 'for a machine without a browser: open the printed URL anywhere, then paste the address the browser ends on')
    .option('--device', 'the device flow (RFC 8628): enter a short code on any device; needs an authorization server that offers it')
    .addOption(new Option('--log-level <level>', 'how much to log on stderr').choices([...LOG_LEVELS]))
    .addHelpText(
      'after',
      `
Examples:
  $ gateway auth login notion                 opens the browser here
  $ gateway auth login notion --paste         over SSH: open the URL on your laptop, paste back the address
  $ gateway auth login github --device        shows a code to enter at the server's verification page
  $ gateway auth login --idp                  one sign-in at the company identity provider (Okta, Entra ID…)
                                              for every server whose authorization server trusts it\n`,
    )
    .action(async (server: string | undefined, options: GlobalOptions & { paste?: boolean; device?: boolean; idp?: boolean }) => {
      if (options.paste && options.device) throw new UsageError('choose one of --paste and --device');
      if (Boolean(server) === Boolean(options.idp))
        throw new UsageError('name one server to log in to, or give --idp for the identity provider');
      if (options.idp) {
        const { identityProviderLogin } = await import('./authIdentityProvider.js');
        process.exitCode = await identityProviderLogin(loadConfig(options.config), {
          ...runtimeOptions(options),
          paste: options.paste,
          device: options.device,
        });
        return;
      }
      const { authLogin } = await import('./authLoginCommand.js');
      process.exitCode = await authLogin(loadConfig(options.config), server!, {
        ...runtimeOptions(options),
        paste: options.paste,
        device: options.device,
      });
    });

  authCommand(
    'status',
    'show the identity provider sign-in and each server: logged in or not, scopes, expiry, refresh token, client, where stored',
  )
    .option('--json', 'print machine-readable JSON')
    .action(async (options: GlobalOptions & { json?: boolean }) => {
      const { authStatus } = await import('./authStatusCommand.js');
      process.exitCode = await authStatus(loadOptionalConfig(options.config), { ...runtimeOptions(options), json: options.json });
    });

  authCommand('logout', 'revoke the tokens at the authorization server (where it can), then delete the login')
    .argument('[server...]', 'servers of the config')
    .option('--idp', "the identity provider's sign-in (servers keep their tokens until they expire, then need a new sign-in)")
    .option('--all', 'every stored login, the identity provider sign-in too')
    .action(async (servers: string[], options: GlobalOptions & { all?: boolean; idp?: boolean }) => {
      const { authLogout } = await import('./authLogoutCommand.js');
      const runtime = { ...runtimeOptions(options), all: options.all, idp: options.idp };
      process.exitCode = await authLogout(loadOptionalConfig(options.config), servers, runtime);
    });

  authCommand('export', 'write logins to one file, to import on another machine (all stored ones by default)')
    .argument('[server...]', 'servers of the config')
    .option('-o, --out <file>', 'write here (mode 0600) instead of stdout')
    .option('--passphrase', 'encrypt with a passphrase (typed in, or MCP_GATEWAY_PASSPHRASE): scrypt + AES-256-GCM')
    .option('--move', 'forget the exported logins here (a login must not be used from two machines: see the README)')
    .action(async (servers: string[], options: GlobalOptions & { out?: string; passphrase?: boolean; move?: boolean }) => {
      const { authExport } = await import('./authExportCommand.js');
      process.exitCode = await authExport(loadOptionalConfig(options.config), servers, {
        ...runtimeOptions(options),
        out: options.out,
        passphrase: options.passphrase,
        move: options.move,
      });
    });

  authCommand('import', 'store the logins of an export file here (checked whole first: on any problem nothing changes)')
    .argument('<file>', 'a file written by gateway auth export')
    .option(
      '--passphrase',
      'the export is encrypted (auth export --passphrase): ask for its passphrase, or take MCP_GATEWAY_PASSPHRASE; refuse a file that is not encrypted',
    )
    .action(async (file: string, options: GlobalOptions & { passphrase?: boolean }) => {
      const { authImport } = await import('./authImportCommand.js');
      process.exitCode = await authImport(loadOptionalConfig(options.config), file, {
        ...runtimeOptions(options),
        passphrase: options.passphrase,
      });
    });

  program
    .command('doctor')
    .description(
      'check the config, the token store, and every server: started and connected as list does (headless), with why not and the fix',
    )
    .option('-c, --config <path>', 'config file (default: ./.mcp.json, then config.json in the user config dir)')
    .addOption(tokenStoreOption())
    .addHelpText('after', `\nExit status: 0 no problems (warnings allowed), 1 problems found, 2 no config file, or it cannot be read.\n`)
    .action(async (options: GlobalOptions) => {
      const { doctor } = await import('./doctorCommand.js');
      process.exitCode = await doctor(options.config, runtimeOptions(options));
    });

  program.addHelpText(
    'after',
    `
Examples:
  $ gateway list --config mcp.example.json     see what each server offers
  $ gateway serve --config .mcp.json           run it for an MCP client
  $ gateway auth status                        what logins are stored
  $ gateway doctor                             find what is wrong, and the fix

Config: the .mcp.json format of Claude Desktop and Claude Code, e.g.
  {"mcpServers": {"files": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "."]},
                  "notion": {"url": "https://mcp.notion.com/mcp"}}}

Exit status: 0 ok, 1 some server not ready or a check failed, 2 bad usage or config, 70 internal error.\n`,
  );
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exit(error.exitCode === 0 ? ExitCode.Ok : ExitCode.UsageOrConfig);
    }
    const code = exitCodeFor(error);
    // The gateway's own errors say what is wrong and what to do; anything else is a bug, with its stack.
    if (code !== ExitCode.Internal) process.stderr.write(`gateway: ${(error as Error).message}\n`);
    else process.stderr.write(`gateway: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(code);
  }
}
