import { readFile } from 'node:fs/promises';
import type { GatewayConfig } from '../config/types.js';
import { createTokenStore, type RuntimeOptions } from './gatewayRuntime.js';
import { errorMessage, Logger } from '../log/logger.js';
import { BundleError, UsageError } from '../shared/errors.js';
import { isEncryptedBundle, openBundle } from '../oauth/loginBundle.js';
import { ExitCode } from './exitCodes.js';
import { readPassphrase } from './promptPassphrase.js';

/**
 * `gateway auth import [--passphrase] FILE`: the logins of an export, into this machine's store.
 * The whole file is checked first (passphrase, integrity, structure); on any problem nothing
 * changes. An encrypted export always needs its passphrase; `--passphrase` says the file must
 * be one, so a plain file (which anyone can write) put in its place is refused.
 */
export async function authImport(
  config: GatewayConfig | undefined,
  file: string,
  options: RuntimeOptions & { passphrase?: boolean },
): Promise<number> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${errorMessage(error)}`, { cause: error });
  }
  const encrypted = isEncryptedBundle(text);
  if (options.passphrase && !encrypted) {
    process.stderr.write(`gateway: ${file}: this export is not encrypted, and --passphrase says it should be; nothing was imported\n`);
    return ExitCode.UsageOrConfig;
  }
  const passphrase = encrypted ? readPassphrase('Passphrase of the export: ') : undefined;
  let logins;
  try {
    logins = await openBundle(text, passphrase);
  } catch (error) {
    if (error instanceof BundleError) {
      process.stderr.write(`gateway: ${file}: ${error.message}\n`);
      return ExitCode.UsageOrConfig;
    }
    throw error;
  }
  const store = createTokenStore(config, options, new Logger({ level: 'error' }));
  const lines: string[] = [];
  for (const login of logins) {
    const replaced = await store.readTokens(login.url).catch(() => undefined);
    await store.forget(login.url);
    if (login.discovery) await store.writeDiscovery(login.url, login.discovery);
    if (login.client) await store.writeClient(login.url, login.client);
    if (login.tokens) await store.writeTokens(login.url, login.tokens);
    lines.push(`  ${login.url}${replaced ? ' (replaced the login stored here)' : ''}`);
  }
  process.stdout.write(
    `Imported ${logins.length} login${logins.length === 1 ? '' : 's'} into ${store.root} (${store.mode}):\n${lines.join('\n')}\n`,
  );
  return ExitCode.Ok;
}
