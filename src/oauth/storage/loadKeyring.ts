import { TokenStoreUnavailableError } from '../../shared/errors.js';

/** The part of `@napi-rs/keyring` the gateway uses. */
export interface KeyringEntry {
  getPassword(): Promise<string | null>;
  setPassword(password: string): Promise<void>;
  deletePassword(): Promise<boolean>;
}
export type KeyringEntryConstructor = new (service: string, account: string) => KeyringEntry;

export const KEYCHAIN_SERVICE = 'mcp-oauth-gateway';

let loaded: Promise<KeyringEntryConstructor> | undefined;

/**
 * Loads the optional keychain binding. `@napi-rs/keyring` ships prebuilt binaries (unlike the
 * archived `keytar`, which needs libsecret headers to install on Linux); it is an optional
 * dependency, so an install without it still works in the other store modes.
 */
export function loadKeyring(): Promise<KeyringEntryConstructor> {
  loaded ??= import('@napi-rs/keyring').then(
    (module) => module.AsyncEntry as unknown as KeyringEntryConstructor,
    (error: unknown) => {
      loaded = undefined;
      throw new TokenStoreUnavailableError(
        `the OS keychain needs the optional package @napi-rs/keyring, which could not be loaded (${(error as Error).message}); ` +
          'install it (npm install @napi-rs/keyring), or use "tokenStore": "file", or "encrypted" with MCP_GATEWAY_KEY set',
        { cause: error },
      );
    },
  );
  return loaded;
}

/** Wraps a keychain failure in what to do about it. */
export function keychainError(what: string, error: unknown): TokenStoreUnavailableError {
  const hint =
    process.platform === 'linux'
      ? 'on Linux a Secret Service (GNOME Keyring, KWallet, KeePassXC) must be running and unlocked in this session'
      : 'the keychain must be unlocked for this user';
  return new TokenStoreUnavailableError(
    `cannot ${what} the OS keychain (${(error as Error).message}); ${hint} — or use "tokenStore": "file"`,
    { cause: error },
  );
}
