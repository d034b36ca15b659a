/** Where a server's OAuth entries are kept: the part of the token store that differs by mode. */

/** The entries kept per server. `tokens` and `client` hold secrets. */
export type EntryName = 'tokens' | 'client' | 'discovery';

/**
 * `file` (default): 0600 JSON files, copyable; `encrypted`: the same files encrypted with
 * AES-256-GCM; `keychain`: the OS keychain; `memory`: nothing persisted.
 */
export type TokenStoreMode = 'file' | 'encrypted' | 'keychain' | 'memory';
export const TOKEN_STORE_MODES: readonly TokenStoreMode[] = ['file', 'encrypted', 'keychain', 'memory'];

export interface StoreBackend {
  readonly mode: TokenStoreMode;
  /** Where one server's entries live, for people (`gateway auth status`). */
  describe(serverDir: string): string;
  /** The entry's text, or undefined when there is none. Throws when it exists but cannot be read. */
  read(serverDir: string, name: EntryName): Promise<string | undefined>;
  write(serverDir: string, name: EntryName, text: string): Promise<void>;
  remove(serverDir: string, name: EntryName): Promise<void>;
}
