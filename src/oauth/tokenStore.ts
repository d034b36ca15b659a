import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { OAuthClientInformationMixed, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import { errorMessage, type Logger } from '../log/logger.js';
import { readFileIfExists, writeFileAtomic } from './atomicFile.js';
import { canonicalServerUrl, serverKey } from './serverKey.js';

/** Tokens as stored: what the authorization server sent, plus when the access token expires. */
export interface StoredTokens extends OAuthTokens {
  /** Absolute expiry of the access token, in ms since the epoch (from `expires_in`). */
  expires_at?: number;
  /** When these tokens were obtained. */
  obtained_at: number;
}

/** A client registration as stored, with the loopback port its redirect URI names. */
export type StoredClient = OAuthClientInformationMixed & {
  /** `dcr` (registered by the gateway) or `static` (from the config). */
  source: 'dcr' | 'static';
  redirect_uri?: string;
};

export interface ServerRecord {
  url: string;
  created_at: number;
}

const FILES = {
  server: 'server.json',
  tokens: 'tokens.json',
  client: 'client.json',
  discovery: 'discovery.json',
} as const;
type Kind = keyof typeof FILES;

/**
 * Per-server OAuth state on disk: one directory per canonical server URL (named by a hash
 * of it) holding tokens, the client registration and discovered metadata. Directories are
 * 0700, files 0600, every write atomic. A file that cannot be read or parsed is reported
 * and treated as absent (which leads to a fresh login), never a crash.
 *
 * The layout is not tied to the gateway's version: an upgrade keeps every login.
 */
export class TokenStore {
  constructor(
    readonly root: string,
    private readonly log?: Logger,
  ) {}

  dirFor(serverUrl: string): string {
    return join(this.root, 'servers', serverKey(serverUrl));
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

  async delete(serverUrl: string, kinds: Array<'tokens' | 'client' | 'discovery'>): Promise<void> {
    for (const kind of kinds) await rm(join(this.dirFor(serverUrl), FILES[kind]), { force: true });
  }

  private async read<T>(serverUrl: string, kind: Kind): Promise<T | undefined> {
    const path = join(this.dirFor(serverUrl), FILES[kind]);
    let text: string | undefined;
    try {
      text = await readFileIfExists(path);
    } catch (error) {
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

  private async write(serverUrl: string, kind: Kind, value: unknown): Promise<void> {
    const dir = this.dirFor(serverUrl);
    if (kind !== 'server' && (await readFileIfExists(join(dir, FILES.server)).catch(() => undefined)) === undefined) {
      const record: ServerRecord = { url: canonicalServerUrl(serverUrl), created_at: Date.now() };
      await writeFileAtomic(join(dir, FILES.server), `${JSON.stringify(record, null, 2)}\n`);
    }
    await writeFileAtomic(join(dir, FILES[kind]), `${JSON.stringify(value, null, 2)}\n`);
  }

  private corrupt(serverUrl: string, kind: Kind, why: string): undefined {
    this.log?.warn(
      `${join(this.dirFor(serverUrl), FILES[kind])}: unreadable ${kind} file (${why}); ignoring it — ` +
        `the server will need a fresh login if nothing else is stored`,
    );
    return undefined;
  }
}
