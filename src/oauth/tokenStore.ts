import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { OAuthClientInformationMixed, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import { errorMessage, type Logger } from '../log/logger.js';
import { registerSecret } from '../log/redact.js';
import { writeFileAtomic } from '../shared/atomicFile.js';
import { canonicalServerUrl, serverKey } from './serverKey.js';
import { LockUnavailableError, TokenStoreUnavailableError, UnsafeAuthorizationServerError } from '../shared/errors.js';
import { withStoreLock } from '../shared/storeLock.js';
import {
  checkPrivateDir,
  checkPrivateFile,
  checkWritableTarget,
  readPrivateFile,
  removeLeftoverTempFiles,
  type HygieneOptions,
} from './storeHygiene.js';
import { FileBackend } from './storage/fileBackend.js';
import { type EntryName, type StoreBackend, type TokenStoreMode } from './storage/storeBackend.js';
import { settled } from '../shared/bestEffort.js';

/** Tokens as stored: what the authorization server sent, plus when the access token expires. */
export interface StoredTokens extends OAuthTokens {
  /** Absolute expiry of the access token, in ms since the epoch (from `expires_in`). */
  expires_at?: number;
  /** When these tokens were obtained. */
  obtained_at: number;
  /** The authorization server they came from (stamped by the SDK). */
  issuer?: string;
}

/**
 * Tokens from a token response (code exchange, refresh, client credentials, device flow), as
 * stored: Bearer only (compared case-insensitively, RFC 6750 §4 / RFC 6749 §5.1), the relative
 * `expires_in` (a non-negative integer) turned into an absolute expiry.
 * @see [RFC 6749 §5.1](https://www.rfc-editor.org/rfc/rfc6749.html#section-5.1), [RFC 6750 §4](https://www.rfc-editor.org/rfc/rfc6750.html#section-4)
 */
export function storedTokensFrom(response: OAuthTokens, what = 'the token response', extra: Partial<StoredTokens> = {}): StoredTokens {
  for (const secret of [response.access_token, response.refresh_token, response.id_token]) registerSecret(secret);
  if (typeof response.token_type !== 'string' || response.token_type.toLowerCase() !== 'bearer') {
    throw new UnsafeAuthorizationServerError(`${what} has token_type ${JSON.stringify(response.token_type)}; only Bearer is supported`);
  }
  // RFC 6749 §5.1: expires_in is a lifetime in seconds; anything but a non-negative integer is a broken answer (not "expired 5 s ago").
  if (response.expires_in !== undefined && !(Number.isInteger(response.expires_in) && response.expires_in >= 0)) {
    throw new UnsafeAuthorizationServerError(
      `${what} has expires_in ${JSON.stringify(response.expires_in)}; it must be a non-negative integer of seconds (RFC 6749 §5.1)`,
    );
  }
  const now = Date.now();
  return {
    ...response,
    ...extra,
    obtained_at: now,
    expires_at: typeof response.expires_in === 'number' ? now + response.expires_in * 1000 : undefined,
  };
}

/** A client registration as stored, with the loopback port its redirect URI names. */
export type StoredClient = OAuthClientInformationMixed & {
  /** `dcr` (registered by the gateway), `cimd` (a client ID metadata document URL) or `static` (from the config). */
  source: 'dcr' | 'cimd' | 'static';
  redirect_uri?: string;
};

export interface ServerRecord {
  url: string;
  created_at: number;
}

/** A server the store holds something for. */
export interface StoredServer {
  key: string;
  url: string;
  dir: string;
}

/**
 * Per-server OAuth state: one directory per canonical server URL (named by a hash of it)
 * under `<root>/servers/`. Its `server.json` (the URL), lock and browser-launch record are
 * plain files; the tokens, the client registration and the discovered metadata go to the
 * store's backend (0600 files by default; encrypted files, the OS keychain, or memory).
 * An entry that cannot be read or parsed is reported and treated as absent (which leads to
 * a fresh login), never a crash; a store that cannot be used at all (no keychain, wrong
 * key) is an error that says so, and nothing is overwritten.
 *
 * The layout is not tied to the gateway's version: an upgrade keeps every login.
 *
 * Every read and write checks what it touches (see storeHygiene): directories 0700 and files
 * 0600 (wider modes are set so, with a warning naming the file), owned by the user, not
 * symbolic links (refused: nothing is read or written through one). Temporary files an
 * interrupted write left behind are removed when the store is first used.
 */
export class TokenStore {
  private readonly memoryMeta = new Map<string, string>();
  private readonly hygiene: HygieneOptions;
  /** The sweep of leftover temporary files, awaited before the first read or write. */
  private readonly ready: Promise<void>;

  constructor(
    readonly root: string,
    private readonly log?: Logger,
    readonly backend: StoreBackend = new FileBackend(),
  ) {
    this.hygiene = { warn: (message) => this.log?.warn(message) };
    this.ready = this.persistent ? settled(this.removeLeftovers()) : Promise.resolve();
  }

  get mode(): TokenStoreMode {
    return this.backend.mode;
  }

  /** Whether logins outlive the process (and are shared with other processes). */
  get persistent(): boolean {
    return this.backend.mode !== 'memory';
  }

  dirFor(serverUrl: string): string {
    return join(this.root, 'servers', serverKey(serverUrl));
  }

  /** Where this server's entries are kept, for people. */
  location(serverUrl: string): string {
    return this.backend.describe(this.dirFor(serverUrl));
  }

  async readTokens(serverUrl: string): Promise<StoredTokens | undefined> {
    const tokens = await this.read<StoredTokens>(serverUrl, 'tokens');
    if (tokens && typeof tokens.access_token !== 'string') return this.corrupt(serverUrl, 'tokens', 'no access_token');
    return tokens;
  }

  async writeTokens(serverUrl: string, tokens: StoredTokens): Promise<void> {
    await this.write(serverUrl, 'tokens', tokens);
  }

  async readClient(serverUrl: string): Promise<StoredClient | undefined> {
    const client = await this.read<StoredClient>(serverUrl, 'client');
    if (client && typeof client.client_id !== 'string') return this.corrupt(serverUrl, 'client', 'no client_id');
    registerSecret((client as { client_secret?: string } | undefined)?.client_secret);
    return client;
  }

  async writeClient(serverUrl: string, client: StoredClient): Promise<void> {
    await this.write(serverUrl, 'client', client);
  }

  async readDiscovery(serverUrl: string): Promise<OAuthDiscoveryState | undefined> {
    return this.read<OAuthDiscoveryState>(serverUrl, 'discovery');
  }

  async writeDiscovery(serverUrl: string, state: OAuthDiscoveryState): Promise<void> {
    await this.write(serverUrl, 'discovery', state);
  }

  async delete(serverUrl: string, kinds: EntryName[]): Promise<void> {
    for (const kind of kinds) await this.backend.remove(this.dirFor(serverUrl), kind);
  }

  /** Forgets everything about a server: its entries and its directory. */
  async forget(serverUrl: string): Promise<void> {
    await this.delete(serverUrl, ['tokens', 'client', 'discovery']);
    this.memoryMeta.forEach((_, key) => key.startsWith(this.dirFor(serverUrl)) && this.memoryMeta.delete(key));
    if (this.persistent) await rm(this.dirFor(serverUrl), { recursive: true, force: true });
  }

  /** Every server the store has a directory for (with the URL its `server.json` names). */
  async listServers(): Promise<StoredServer[]> {
    const servers: StoredServer[] = [];
    if (!this.persistent) {
      for (const [key, text] of this.memoryMeta) {
        if (key.endsWith('/server')) {
          const dir = key.slice(0, -'/server'.length);
          servers.push({ key: dir.split('/').pop()!, url: (JSON.parse(text) as ServerRecord).url, dir });
        }
      }
      return servers;
    }
    let names: string[] = [];
    try {
      names = await readdir(join(this.root, 'servers'));
    } catch {
      return [];
    }
    for (const key of names.sort()) {
      const dir = join(this.root, 'servers', key);
      try {
        await checkPrivateDir(dir, this.hygiene);
        const record = JSON.parse((await readPrivateFile(join(dir, 'server.json'), this.hygiene)) ?? 'null') as ServerRecord | null;
        if (record?.url) servers.push({ key, url: record.url, dir });
      } catch (error) {
        this.log?.warn(`${join(dir, 'server.json')}: unreadable (${errorMessage(error)}); ignoring that directory`);
      }
    }
    return servers;
  }

  /** Runs `fn` under the server's cross-process lock (in memory mode, nothing is shared to lock). */
  async withLock<T>(serverUrl: string, fn: () => Promise<T>, options: { timeoutMs?: number } = {}): Promise<T> {
    if (!this.persistent) return fn();
    await this.checkDirs(serverUrl);
    let ran = false;
    try {
      return await withStoreLock(this.dirFor(serverUrl), () => ((ran = true), fn()), options);
    } catch (error) {
      // A store that cannot hold a lock file (read-only, full) still lets this process refresh and log in.
      if (ran || !(error instanceof LockUnavailableError)) throw error;
      this.log?.warn(`${error.message}; going on without the cross-process lock`);
      return fn();
    }
  }

  /** A small plain record beside the entries (`browser.json`: recent browser launches). */
  async readMeta(serverUrl: string, name: 'browser'): Promise<string | undefined> {
    if (!this.persistent) return this.memoryMeta.get(`${this.dirFor(serverUrl)}/${name}`);
    await this.checkDirs(serverUrl);
    return readPrivateFile(join(this.dirFor(serverUrl), `${name}.json`), this.hygiene);
  }

  async writeMeta(serverUrl: string, name: 'browser', text: string): Promise<void> {
    if (!this.persistent) {
      this.memoryMeta.set(`${this.dirFor(serverUrl)}/${name}`, text);
      return;
    }
    await this.checkDirs(serverUrl);
    await checkWritableTarget(join(this.dirFor(serverUrl), `${name}.json`), this.hygiene);
    await writeFileAtomic(join(this.dirFor(serverUrl), `${name}.json`), text);
  }

  private async read<T>(serverUrl: string, kind: EntryName): Promise<T | undefined> {
    await this.checkEntry(serverUrl, kind);
    let text: string | undefined;
    try {
      text = await this.backend.read(this.dirFor(serverUrl), kind);
    } catch (error) {
      if (error instanceof TokenStoreUnavailableError) throw error;
      return this.corrupt(serverUrl, kind, errorMessage(error));
    }
    if (text === undefined) return undefined;
    try {
      const value = JSON.parse(text) as unknown;
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object');
      return value as T;
    } catch (error) {
      return this.corrupt(serverUrl, kind, errorMessage(error));
    }
  }

  private async write(serverUrl: string, kind: EntryName, value: unknown): Promise<void> {
    await this.checkEntry(serverUrl, kind, { writing: true });
    await this.ensureServerRecord(serverUrl);
    await this.backend.write(this.dirFor(serverUrl), kind, `${JSON.stringify(value, null, 2)}\n`);
  }

  private async ensureServerRecord(serverUrl: string): Promise<void> {
    const dir = this.dirFor(serverUrl);
    const record = `${JSON.stringify({ url: canonicalServerUrl(serverUrl), created_at: Date.now() } satisfies ServerRecord, null, 2)}\n`;
    if (!this.persistent) {
      if (!this.memoryMeta.has(`${dir}/server`)) this.memoryMeta.set(`${dir}/server`, record);
      return;
    }
    if ((await readPrivateFile(join(dir, 'server.json'), this.hygiene).catch(() => undefined)) === undefined) {
      await checkWritableTarget(join(dir, 'server.json'), this.hygiene);
      await writeFileAtomic(join(dir, 'server.json'), record);
    }
  }

  /** The store's `servers` directory and this server's, checked (see checkPrivateDir); after the start-up sweep. */
  private async checkDirs(serverUrl: string): Promise<void> {
    await this.ready;
    await checkPrivateDir(join(this.root, 'servers'), this.hygiene);
    await checkPrivateDir(this.dirFor(serverUrl), this.hygiene);
  }

  /** The directories, and the entry's file where the backend keeps entries in files. */
  private async checkEntry(serverUrl: string, kind: EntryName, { writing = false } = {}): Promise<void> {
    if (!this.persistent) return;
    await this.checkDirs(serverUrl);
    if (this.backend.mode !== 'file' && this.backend.mode !== 'encrypted') return;
    const path = join(this.dirFor(serverUrl), `${kind}.json`);
    await (writing ? checkWritableTarget(path, this.hygiene) : checkPrivateFile(path, this.hygiene));
  }

  /** Removes the temporary files interrupted writes left in the server directories (see removeLeftoverTempFiles). */
  private async removeLeftovers(): Promise<void> {
    const root = join(this.root, 'servers');
    for (const key of await readdir(root).catch(() => [] as string[])) {
      for (const path of await removeLeftoverTempFiles(join(root, key))) this.log?.info(`removed ${path}, left by an interrupted write`);
    }
  }

  private corrupt(serverUrl: string, kind: EntryName, why: string): undefined {
    this.log?.warn(
      `${join(this.dirFor(serverUrl), `${kind}.json`)}: unreadable ${kind} file (${why}); ignoring it — ` +
        `the server will need a fresh login if nothing else is stored`,
    );
    return undefined;
  }
}
