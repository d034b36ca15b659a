import { resolve } from 'node:path';
import type { GatewayConfig } from '../config/types.js';
import { UsageError } from '../shared/errors.js';
import { createTokenStore, type RuntimeOptions } from './gatewayRuntime.js';
import { Logger } from '../log/logger.js';
import { writeFileAtomic } from '../shared/atomicFile.js';
import { createBundle, type BundledLogin } from '../oauth/loginBundle.js';
import { allTargets, configuredTargets } from './authTargets.js';
import { ExitCode } from './exitCodes.js';
import { readPassphrase } from './promptPassphrase.js';

export interface ExportOptions extends RuntimeOptions {
  out?: string;
  passphrase?: boolean;
  move?: boolean;
}

const SHARED_CHAIN_WARNING =
  'A copied login is shared by two machines: where the authorization server rotates refresh tokens, the two race at ' +
  'every refresh and the server may revoke the whole chain for both (RFC 9700 §4.14.2). Move a login rather than ' +
  'copy it: --move makes this machine forget what it exports.';

/**
 * `gateway auth export [<server>…] [--out FILE] [--passphrase] [--move]`: the logins of some
 * servers (all stored ones by default) in one file, to import on another machine.
 */
export async function authExport(config: GatewayConfig | undefined, names: string[], options: ExportOptions): Promise<number> {
  const store = createTokenStore(config, options, new Logger({ level: 'error' }));
  const targets = names.length ? configuredTargets(config, names) : await allTargets(config, store);
  const logins: BundledLogin[] = [];
  for (const target of targets) {
    const [tokens, client, discovery] = await Promise.all([
      store.readTokens(target.url),
      store.readClient(target.url),
      store.readDiscovery(target.url),
    ]);
    if (!tokens) {
      if (names.length) throw new UsageError(`${target.name} is not logged in; nothing to export (run: gateway auth login ${target.name})`);
      continue;
    }
    logins.push({ url: target.url, tokens, ...(client ? { client } : {}), ...(discovery ? { discovery } : {}) });
  }
  if (!logins.length) {
    process.stderr.write('gateway: no logins are stored; nothing to export\n');
    return ExitCode.SomeServersNotReady;
  }
  if (!options.out && process.stdout.isTTY) {
    throw new UsageError('the export holds secrets and stdout is a terminal: write it to a file with --out FILE');
  }
  const wantsPassphrase = options.passphrase || Boolean(process.env.MCP_GATEWAY_PASSPHRASE);
  const passphrase = wantsPassphrase ? readPassphrase('Passphrase for the export: ', { confirm: true }) : undefined;
  if (wantsPassphrase && !passphrase) {
    throw new UsageError('--passphrase needs a terminal to type it in, or MCP_GATEWAY_PASSPHRASE');
  }
  const text = await createBundle(logins, passphrase);
  if (options.out) await writeFileAtomic(resolve(options.out), text);
  else process.stdout.write(text);

  const where = options.out ? resolve(options.out) : 'stdout';
  process.stderr.write(
    `Exported ${logins.length} login${logins.length === 1 ? '' : 's'} to ${where}${passphrase ? ' (encrypted: scrypt + AES-256-GCM)' : ' (not encrypted: keep the file private, or use --passphrase)'}:\n` +
      logins.map((login) => `  ${login.url}\n`).join(''),
  );
  if (options.move) {
    for (const login of logins) await store.forget(login.url);
    process.stderr.write(
      `Moved: this machine has forgotten ${logins.length === 1 ? 'that login' : 'those logins'} (nothing was revoked). Import the file with: gateway auth import FILE\n`,
    );
  } else {
    process.stderr.write(`${SHARED_CHAIN_WARNING}\n`);
  }
  return ExitCode.Ok;
}
