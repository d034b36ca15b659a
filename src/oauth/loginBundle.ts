import { createHash, randomBytes } from 'node:crypto';
import type { OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import { deriveKey, seal, unseal, SCRYPT_PARAMS, type Sealed } from './storage/aesGcm.js';
import type { StoredClient, StoredTokens } from './tokenStore.js';
import { BundleError } from '../shared/errors.js';

/**
 * The file `gateway auth export` writes and `gateway auth import` reads: the logins of some
 * servers, to move them to another machine. Plain (with a checksum that catches damage), or
 * encrypted with a passphrase (scrypt + AES-256-GCM, which also detects any alteration).
 */
export const BUNDLE_FORMAT = 'mcp-oauth-gateway/logins';

export interface BundledLogin {
  url: string;
  tokens?: StoredTokens;
  client?: StoredClient;
  discovery?: OAuthDiscoveryState;
}

interface PlainBundle {
  format: typeof BUNDLE_FORMAT;
  version: 1;
  exported_at: string;
  servers: BundledLogin[];
  checksum: string;
}

interface EncryptedBundle {
  format: typeof BUNDLE_FORMAT;
  version: 1;
  encrypted: Sealed & { kdf: 'scrypt'; salt: string; N: number; r: number; p: number };
}

function checksum(servers: BundledLogin[]): string {
  return `sha256:${createHash('sha256').update(JSON.stringify(servers)).digest('hex')}`;
}

export async function createBundle(servers: BundledLogin[], passphrase?: string): Promise<string> {
  const plain: PlainBundle = {
    format: BUNDLE_FORMAT,
    version: 1,
    exported_at: new Date().toISOString(),
    servers,
    checksum: checksum(servers),
  };
  if (!passphrase) return `${JSON.stringify(plain, null, 2)}\n`;
  const salt = randomBytes(16);
  const key = await deriveKey(passphrase, salt);
  const sealed = seal(key, JSON.stringify(plain), BUNDLE_FORMAT);
  const bundle: EncryptedBundle = {
    format: BUNDLE_FORMAT,
    version: 1,
    encrypted: { kdf: 'scrypt', salt: salt.toString('base64'), ...SCRYPT_PARAMS, ...sealed },
  };
  return `${JSON.stringify(bundle, null, 2)}\n`;
}

export function isEncryptedBundle(text: string): boolean {
  try {
    return Boolean((JSON.parse(text) as Partial<EncryptedBundle>).encrypted);
  } catch {
    return false;
  }
}

/** The logins in a bundle, checked whole: a wrong passphrase, damage or tampering is an error and nothing is returned. */
export async function openBundle(text: string, passphrase?: string): Promise<BundledLogin[]> {
  let outer: Partial<PlainBundle & EncryptedBundle>;
  try {
    outer = JSON.parse(text) as Partial<PlainBundle & EncryptedBundle>;
  } catch {
    throw new BundleError('this is not a login export (not JSON)');
  }
  if (outer.format !== BUNDLE_FORMAT)
    throw new BundleError(`this is not a login export from mcp-oauth-gateway (format ${JSON.stringify(outer.format)})`);
  if (outer.version !== 1)
    throw new BundleError(`this export has version ${String(outer.version)}; this gateway reads version 1 (upgrade it)`);
  let plain: Partial<PlainBundle> = outer;
  if (outer.encrypted) {
    if (!passphrase)
      throw new BundleError('this export is encrypted: give its passphrase (typed in at a terminal, or MCP_GATEWAY_PASSPHRASE)');
    const e = outer.encrypted;
    const limits = e.N <= 2 ** 20 && e.r <= 16 && e.p <= 4;
    if (e.kdf !== 'scrypt' || typeof e.salt !== 'string' || !limits)
      throw new BundleError('this export names key parameters the gateway does not accept');
    const key = await deriveKey(passphrase, Buffer.from(e.salt, 'base64'), { N: e.N, r: e.r, p: e.p });
    try {
      plain = JSON.parse(unseal(key, e, BUNDLE_FORMAT)) as Partial<PlainBundle>;
    } catch {
      throw new BundleError('wrong passphrase, or the file was altered; nothing was imported');
    }
  }
  const servers = plain.servers;
  if (!Array.isArray(servers)) throw new BundleError('the export holds no list of servers');
  if (plain.checksum !== checksum(servers))
    throw new BundleError('the export was altered or damaged (its checksum does not match); nothing was imported');
  for (const [index, server] of servers.entries()) {
    const at = `servers[${index}]`;
    if (!server || typeof server.url !== 'string') throw new BundleError(`${at}: no server URL`);
    try {
      new URL(server.url);
    } catch {
      throw new BundleError(`${at}.url: not a URL`);
    }
    if (server.tokens && typeof server.tokens.access_token !== 'string') throw new BundleError(`${at}.tokens: no access_token`);
    if (server.client && typeof server.client.client_id !== 'string') throw new BundleError(`${at}.client: no client_id`);
  }
  return servers;
}
