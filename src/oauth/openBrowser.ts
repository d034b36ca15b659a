import { spawn } from 'node:child_process';
import type { Logger } from '../log/logger.js';

export interface BrowserOptions {
  /** `--no-browser` / headless: never try to open one. */
  noBrowser?: boolean;
  env?: NodeJS.ProcessEnv;
  /** The command that runs this login by hand (default `gateway auth login <server>`). */
  loginCommand?: string;
}

export type BrowserOutcome = 'launched' | 'printed';

/** Why no browser can open here, or undefined if one probably can. */
export function noBrowserReason(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string | undefined {
  if (env.MCP_GATEWAY_BROWSER) return undefined;
  if (env.SSH_CONNECTION || env.SSH_TTY) return 'this is an SSH session';
  if (platform === 'linux' && !env.DISPLAY && !env.WAYLAND_DISPLAY)
    return 'there is no display (neither DISPLAY nor WAYLAND_DISPLAY is set)';
  return undefined;
}

/**
 * Shows the user the authorization URL: `MCP_GATEWAY_BROWSER` (a command given the URL as
 * its one argument) if set, else the system browser through `open`. Where none can open,
 * or with `noBrowser`, the URL is printed to stderr with one line of instructions; the
 * caller keeps waiting for the callback either way.
 */
export async function showAuthorizationUrl(
  url: string,
  serverName: string,
  log: Logger,
  options: BrowserOptions = {},
): Promise<BrowserOutcome> {
  const env = options.env ?? process.env;
  const why = options.noBrowser ? 'the browser is turned off (--no-browser)' : noBrowserReason(env);
  if (why) {
    printUrl(url, serverName, why);
    return 'printed';
  }
  try {
    if (env.MCP_GATEWAY_BROWSER) {
      const child = spawn(env.MCP_GATEWAY_BROWSER, [url], { stdio: 'ignore', detached: true, shell: false });
      await new Promise<void>((resolve, reject) => {
        child.once('error', reject);
        child.once('spawn', () => resolve());
      });
      child.unref();
    } else {
      const { default: open } = await import('open');
      const child = await open(url, { wait: false });
      child.once('error', () => {});
    }
    log.info(
      `opened the browser to log in to ${serverName}; waiting for you to finish there… (the login page: ${withoutFlowValues(url)}; ` +
        `if no tab opened, \`${options.loginCommand ?? `gateway auth login ${serverName}`} --no-browser\` prints the whole URL)`,
    );
    log.debug(() => `the authorization URL: ${url}`);
    return 'launched';
  } catch (error) {
    printUrl(url, serverName, `the browser could not be started (${(error as Error).message})`);
    return 'printed';
  }
}

/**
 * The authorization URL for an `info` log line: without its `state`, `code_challenge` and `nonce`, the
 * values that bind the login to this flow (RFC 6749 §10.12, RFC 7636 §4.3), which a log has
 * no use for; the whole URL is logged at `debug` only.
 * @see [RFC 6749 §10.12](https://www.rfc-editor.org/rfc/rfc6749.html#section-10.12), [RFC 7636 §4.3](https://www.rfc-editor.org/rfc/rfc7636.html#section-4.3)
 */
export function withoutFlowValues(url: string): string {
  try {
    const shown = new URL(url);
    shown.searchParams.delete('state');
    shown.searchParams.delete('code_challenge');
    shown.searchParams.delete('nonce');
    return shown.href;
  } catch {
    return '(not a valid URL)';
  }
}

function printUrl(url: string, serverName: string, why: string): void {
  let port = '';
  try {
    port = new URL(new URL(url).searchParams.get('redirect_uri') ?? '').port;
  } catch {
    // No loopback redirect to point at.
  }
  const ssh =
    port && /SSH/.test(why)
      ? `(From another machine: forward the callback port first, e.g. \`ssh -L ${port}:127.0.0.1:${port} <this host>\`.)\n`
      : '';
  process.stderr.write(
    `\n${serverName} needs you to log in, and ${why}.\n` +
      `Open this URL in a browser on this machine and approve; the gateway is waiting for the redirect:\n\n  ${url}\n\n${ssh}`,
  );
}
