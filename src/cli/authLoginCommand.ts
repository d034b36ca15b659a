import type { GatewayConfig } from '../config/types.js';
import { createLogger, createTokenStore, type RuntimeOptions } from '../gateway/gatewayRuntime.js';
import { errorMessage } from '../log/logger.js';
import { ServerAuth } from '../oauth/serverAuth.js';
import { configuredTargets } from './authTargets.js';
import { ExitCode } from './exitCodes.js';
import { describeExpiry } from './describeLogin.js';

/**
 * `gateway auth login <server>`: a fresh browser login now, even if tokens exist, and
 * regardless of the limit on automatic browser launches. Progress goes to stderr.
 */
export async function authLogin(config: GatewayConfig, name: string, options: RuntimeOptions): Promise<number> {
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
  try {
    await auth.login({ force: true });
  } catch (error) {
    process.stderr.write(`gateway: login to ${target!.name} failed: ${errorMessage(error)}\n`);
    return ExitCode.SomeServersNotReady;
  }
  const tokens = await store.readTokens(target!.url);
  process.stdout.write(
    `Logged in to ${target!.name}` +
      (tokens ? ` (${describeExpiry(tokens)}${tokens.refresh_token ? ', with a refresh token' : ', no refresh token'})` : '') +
      `.\nStored in ${store.location(target!.url)}\n`,
  );
  return ExitCode.Ok;
}
