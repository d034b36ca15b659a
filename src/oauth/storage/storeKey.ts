import { randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { ensurePrivateDir, FILE_MODE, readFileIfExists } from '../../shared/atomicFile.js';
import { deriveKey, seal, unseal, type Sealed } from './aesGcm.js';
import { keychainError, KEYCHAIN_SERVICE, loadKeyring } from './loadKeyring.js';
import { TokenStoreUnavailableError } from '../../shared/errors.js';

const CHECK_TEXT = 'mcp-oauth-gateway store key';

/** `<root>/encryption.json`: the salt a passphrase key is derived with, and a check that tells a wrong key at once. */
interface KeyFile {
  v: 1;
  salt: string;
  check: Sealed;
}

/**
 * The key of an encrypted store: `MCP_GATEWAY_KEY` (64 hex digits are used as they are, any
 * other text through scrypt with the store's salt), else a random key kept in the OS keychain.
 * A key that does not open the store's check is refused, so a wrong key never leads to fresh
 * logins that would overwrite the good files.
 */
export async function resolveStoreKey(root: string, env: NodeJS.ProcessEnv = process.env): Promise<Buffer> {
  await ensurePrivateDir(root);
  const keyFor = (salt: Buffer) => (env.MCP_GATEWAY_KEY ? keyFromText(env.MCP_GATEWAY_KEY, salt) : keyFromKeychain(root));
  const keyFile = await readOrCreateKeyFile(root, keyFor);
  const key = await keyFor(Buffer.from(keyFile.salt, 'base64'));
  try {
    unseal(key, keyFile.check, CHECK_TEXT);
  } catch {
    throw new TokenStoreUnavailableError(
      `the encrypted token store ${root} was encrypted with another key than ${env.MCP_GATEWAY_KEY ? 'MCP_GATEWAY_KEY' : "the OS keychain's"}; ` +
        'set MCP_GATEWAY_KEY to the key it was made with (nothing was changed)',
    );
  }
  return key;
}

function keyFromText(text: string, salt: Buffer): Promise<Buffer> {
  return /^[0-9a-f]{64}$/i.test(text) ? Promise.resolve(Buffer.from(text, 'hex')) : deriveKey(text, salt);
}

async function keyFromKeychain(root: string): Promise<Buffer> {
  let Entry;
  try {
    Entry = await loadKeyring();
  } catch (error) {
    throw new TokenStoreUnavailableError(`the encrypted token store needs a key: set MCP_GATEWAY_KEY, or ${(error as Error).message}`, {
      cause: error,
    });
  }
  const entry = new Entry(KEYCHAIN_SERVICE, `store-key ${root}`);
  try {
    const stored = await entry.getPassword();
    if (stored) return Buffer.from(stored, 'base64');
    const key = randomBytes(32);
    await entry.setPassword(key.toString('base64'));
    return key;
  } catch (error) {
    const wrapped = keychainError('keep the store key in', error);
    throw new TokenStoreUnavailableError(
      `the encrypted token store needs a key: set MCP_GATEWAY_KEY, or make the keychain usable (${wrapped.message})`,
      { cause: error },
    );
  }
}

async function readOrCreateKeyFile(root: string, keyFor: (salt: Buffer) => Promise<Buffer>): Promise<KeyFile> {
  const path = join(root, 'encryption.json');
  for (;;) {
    const text = await readFileIfExists(path);
    if (text !== undefined) {
      try {
        return JSON.parse(text) as KeyFile;
      } catch {
        throw new TokenStoreUnavailableError(`${path} is damaged; restore it from a copy (the encrypted files cannot be read without it)`);
      }
    }
    // First use: the salt and check are made once the key is known; create the file exclusively.
    const salt = randomBytes(16);
    const key = await keyFor(salt);
    const keyFile: KeyFile = { v: 1, salt: salt.toString('base64'), check: seal(key, CHECK_TEXT, CHECK_TEXT) };
    try {
      const handle = await open(path, 'wx', FILE_MODE);
      await handle.writeFile(`${JSON.stringify(keyFile)}\n`);
      await handle.close();
      return keyFile;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // Another process made it first: use theirs.
    }
  }
}
