import { basename } from 'node:path';
import { keychainError, KEYCHAIN_SERVICE, loadKeyring, type KeyringEntry } from './loadKeyring.js';
import type { EntryName, StoreBackend } from './storeBackend.js';

/** Entries in the OS keychain (service "mcp-oauth-gateway", account "<server key>/<entry>"). */
export class KeychainBackend implements StoreBackend {
  readonly mode = 'keychain' as const;

  describe(serverDir: string): string {
    return `OS keychain (service ${KEYCHAIN_SERVICE}, accounts ${basename(serverDir)}/…)`;
  }

  private async entry(serverDir: string, name: EntryName): Promise<KeyringEntry> {
    const Entry = await loadKeyring();
    return new Entry(KEYCHAIN_SERVICE, `${basename(serverDir)}/${name}`);
  }

  async read(serverDir: string, name: EntryName): Promise<string | undefined> {
    const entry = await this.entry(serverDir, name);
    try {
      return (await entry.getPassword()) ?? undefined;
    } catch (error) {
      throw keychainError('read from', error);
    }
  }

  async write(serverDir: string, name: EntryName, text: string): Promise<void> {
    const entry = await this.entry(serverDir, name);
    try {
      await entry.setPassword(text);
    } catch (error) {
      throw keychainError('write to', error);
    }
  }

  async remove(serverDir: string, name: EntryName): Promise<void> {
    const entry = await this.entry(serverDir, name);
    try {
      await entry.deletePassword();
    } catch (error) {
      throw keychainError('delete from', error);
    }
  }
}
