import { createInterface } from 'node:readline';
import type { GatewayConfig } from '../config/types.js';
import type { PasteReader } from '../oauth/serverAuth.js';
import { createLogger, createTokenStore, type RuntimeOptions } from './gatewayRuntime.js';
import { errorMessage } from '../log/logger.js';
import { ServerAuth } from '../oauth/serverAuth.js';
import { configuredTargets } from './authTargets.js';
import { ExitCode } from './exitCodes.js';
import { describeExpiry } from './describeLogin.js';

/**
 * `gateway auth login <server>`: a fresh browser login now, even if tokens exist, and
 * regardless of the limit on automatic browser launches. Progress goes to stderr.
 */
export async function authLogin(
  config: GatewayConfig,
  name: string,
  options: RuntimeOptions & { paste?: boolean; device?: boolean },
): Promise<number> {
  const [target] = configuredTargets(config, [name]);
  const log = createLogger(config, { ...options, logLevel: options.logLevel ?? 'info' }).child(target!.name);
  const store = createTokenStore(config, options, log);
  const auth = new ServerAuth({
    name: target!.name,
    url: target!.url,
    oauth: target!.config?.oauth,
    store,
    log,
    noBrowser: options.noBrowser,
    callbackTimeoutMs: config.gateway.callbackTimeout,
    // --paste: the URL is for any machine's browser; the user pastes back where it landed.
    presentLoginUrl: options.paste
      ? (url) => {
          process.stderr.write(
            `\nOpen this URL in a browser on any machine and approve:\n\n  ${url}\n\n` +
              'The browser then goes to a http://127.0.0.1 address, which may not load there; that is expected.\n' +
              'Copy that whole address from the address bar and paste it here.\n',
          );
          return true;
        }
      : undefined,
  });
  process.stderr.write(`Logging in to ${target!.name} (${target!.url})…\n`);
  try {
    const status = await auth.probe();
    if (status !== 401 && !target!.config?.oauth) {
      process.stderr.write(`note: ${target!.url} answered HTTP ${status} without a token; trying the login anyway\n`);
    }
  } catch (error) {
    process.stderr.write(`gateway: cannot reach ${target!.url}: ${errorMessage(error)}\n`);
    return ExitCode.SomeServersNotReady;
  }
  const paste = options.paste ? pasteFromStdin() : undefined;
  try {
    if (options.device) await auth.deviceLogin((text) => process.stderr.write(`${text}\n`));
    else await auth.login({ force: true, paste: paste?.reader });
  } catch (error) {
    process.stderr.write(`gateway: login to ${target!.name} failed: ${errorMessage(error)}\n`);
    return ExitCode.SomeServersNotReady;
  } finally {
    paste?.close();
  }
  const tokens = await store.readTokens(target!.url);
  process.stdout.write(
    `Logged in to ${target!.name}` +
      (tokens ? ` (${describeExpiry(tokens)}${tokens.refresh_token ? ', with a refresh token' : ', no refresh token'})` : '') +
      `.\nStored in ${store.location(target!.url)}\n`,
  );
  return ExitCode.Ok;
}

/** Pasted lines from stdin (a terminal, or a pipe), with prompts and refusals on stderr. */
export function pasteFromStdin(): { reader: PasteReader; close: () => void } {
  const lines = createInterface({ input: process.stdin, terminal: false });
  const iterator = lines[Symbol.asyncIterator]();
  return {
    reader: {
      async read(prompt) {
        process.stderr.write(prompt);
        const next = await iterator.next();
        return next.done ? undefined : next.value;
      },
      async say(message) {
        process.stderr.write(`${message}\n`);
      },
    },
    close: () => {
      lines.close();
      process.stdin.destroy();
    },
  };
}
