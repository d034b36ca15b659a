import { Command, CommanderError, Option } from 'commander';
import { ConfigError } from '../config/configError.js';
import { loadConfig } from '../config/loadConfig.js';
import { LOG_LEVELS, type LogLevel } from '../log/logger.js';
import { VERSION } from '../version.js';
import { ExitCode } from './exitCodes.js';


interface GlobalOptions {
  config?: string;
  logLevel?: LogLevel;
  logFile?: string;
  browser?: boolean;
}

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
      .option('--no-browser', 'print OAuth login URLs on stderr instead of opening a browser');

  withCommonOptions(
    program
      .command('serve')
      .description('run the gateway as an MCP server on stdio (what Claude Desktop starts)')
      .addHelpText(
        'after',
        `
stdout carries only MCP messages; progress and logs go to stderr.
The gateway answers at once and adds each server's tools as it becomes ready.

Examples:
  $ gateway serve --config ~/.config/mcp/.mcp.json
  $ gateway serve --log-level debug --log-file /tmp/gateway.log

Claude Desktop (claude_desktop_config.json):
  {"mcpServers": {"gateway": {"command": "npx",
     "args": ["-y", "mcp-oauth-gateway", "serve", "--config", "/abs/path/.mcp.json"]}}}\n`,
      ),
  ).action(async (options: GlobalOptions) => {
    const config = loadConfig(options.config);
    const { serve } = await import('./serveCommand.js');
    await serve(config, { logLevel: options.logLevel, logFile: options.logFile, noBrowser: options.browser === false });
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
    process.exitCode = await list(config, { logLevel: options.logLevel, logFile: options.logFile, noBrowser: options.browser === false, json: options.json });
  });

  program.addHelpText(
    'after',
    `
Examples:
  $ gateway list --config mcp.example.json     see what each server offers
  $ gateway serve --config .mcp.json           run it for an MCP client

Config: the .mcp.json format of Claude Desktop and Claude Code, e.g.
  {"mcpServers": {"files": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "."]},
                  "notion": {"url": "https://mcp.notion.com/mcp"}}}

Exit status: 0 ok, 1 some server not ready (list), 2 bad usage or config, 70 internal error.\n`,
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
    if (error instanceof ConfigError) {
      process.stderr.write(`gateway: ${error.message}\n`);
      process.exit(ExitCode.UsageOrConfig);
    }
    process.stderr.write(`gateway: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(ExitCode.Internal);
  }
}
