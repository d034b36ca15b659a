import { EncryptedFileBackend } from './encryptedFileBackend.js';
import { FileBackend } from './fileBackend.js';
import { KeychainBackend } from './keychainBackend.js';
import { MemoryBackend } from './memoryBackend.js';
import type { StoreBackend, TokenStoreMode } from './storeBackend.js';
import { resolveStoreKey } from './storeKey.js';

/** The backend for a store mode. Nothing is loaded or checked until first use, so a missing keychain fails only the servers that need it. */
export function createBackend(mode: TokenStoreMode, root: string, env: NodeJS.ProcessEnv = process.env): StoreBackend {
  switch (mode) {
    case 'file':
      return new FileBackend();
    case 'encrypted':
      return new EncryptedFileBackend(() => resolveStoreKey(root, env));
    case 'keychain':
      return new KeychainBackend();
    case 'memory':
      return new MemoryBackend();
  }
}
