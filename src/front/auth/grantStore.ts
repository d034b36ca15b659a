import { randomBytes } from 'node:crypto';
import type { OAuthClientInformationFull } from '@modelcontextprotocol/sdk/shared/auth.js';

/** A user the identity provider vouched for. */
export interface Identity {
  /** The provider's subject (`sub`; GitHub: the numeric user id). */
  subject: string;
  /** Verified email addresses. */
  emails: string[];
  name?: string;
}

/** What an authorization request asked for (the SDK's AuthorizationParams, kept). */
export interface AskedFor {
  redirectUri: string;
  codeChallenge: string;
  state?: string;
  scopes: string[];
  resource?: string;
}

export interface Grant {
  clientId: string;
  user: Identity;
  scopes: string[];
  resource: string;
}

interface Expiring<T> {
  value: T;
  expiresAt: number;
}

/** Refresh tokens of one login: each refresh retires the one used; a retired one used again ends the whole chain (RFC 9700 §4.14.2). */
interface RefreshEntry extends Grant {
  chain: string;
  retired: boolean;
  expiresAt: number;
}

const CLIENTS_KEPT = 1000;
export const CODE_MS = 60_000;
export const PENDING_MS = 10 * 60_000;
export const REFRESH_MS = 30 * 24 * 3600_000;

export const newSecret = (bytes = 32) => randomBytes(bytes).toString('base64url');

/**
 * The OAuth front's state, in memory: registered clients (the oldest dropped past a
 * thousand), logins under way, authorization codes, access and refresh tokens. A restart
 * forgets it all: clients register and log in again.
 */
export class GrantStore {
  private readonly clients = new Map<string, OAuthClientInformationFull>();
  private readonly pending = new Map<string, Expiring<{ client: OAuthClientInformationFull; asked: AskedFor; verifier?: string }>>();
  private readonly codes = new Map<string, Expiring<Grant & { asked: AskedFor }>>();
  private readonly access = new Map<string, Expiring<Grant & { chain: string }>>();
  private readonly refresh = new Map<string, RefreshEntry>();

  constructor(
    private readonly accessMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  client(id: string): OAuthClientInformationFull | undefined {
    return this.clients.get(id);
  }

  addClient(client: OAuthClientInformationFull): OAuthClientInformationFull {
    if (this.clients.size >= CLIENTS_KEPT) this.clients.delete(this.clients.keys().next().value!);
    this.clients.set(client.client_id, client);
    return client;
  }

  /** A login under way, by a one-time id (the consent form's, then the identity provider's `state`). */
  begin(client: OAuthClientInformationFull, asked: AskedFor): string {
    const id = newSecret(24);
    this.pending.set(id, { value: { client, asked }, expiresAt: this.now() + PENDING_MS });
    return id;
  }

  /** The login under way with that id, unexpired; `take` ends it. */
  pendingLogin(id: string, { take = false } = {}) {
    const entry = this.pending.get(id);
    if (take) this.pending.delete(id);
    return entry && entry.expiresAt > this.now() ? entry.value : undefined;
  }

  issueCode(grant: Grant, asked: AskedFor): string {
    const code = newSecret();
    this.codes.set(code, { value: { ...grant, asked }, expiresAt: this.now() + CODE_MS });
    return code;
  }

  /** The code's grant, if it is unexpired and the client's; `take` uses it up. */
  code(code: string, clientId: string, { take = false } = {}) {
    const entry = this.codes.get(code);
    if (take) this.codes.delete(code);
    return entry && entry.expiresAt > this.now() && entry.value.clientId === clientId ? entry.value : undefined;
  }

  /** An access token and a refresh token for a grant (a refresh continues its chain). */
  issueTokens(grant: Grant, chain = newSecret(12)): { access: string; refresh: string; expiresIn: number } {
    const access = newSecret();
    const refresh = newSecret();
    this.access.set(access, { value: { ...grant, chain }, expiresAt: this.now() + this.accessMs });
    this.refresh.set(refresh, { ...grant, chain, retired: false, expiresAt: this.now() + REFRESH_MS });
    this.sweep();
    return { access, refresh, expiresIn: Math.round(this.accessMs / 1000) };
  }

  /** The grant behind an unexpired access token, with when it expires. */
  accessToken(token: string): (Grant & { expiresAt: number }) | undefined {
    const entry = this.access.get(token);
    return entry && entry.expiresAt > this.now() ? { ...entry.value, expiresAt: entry.expiresAt } : undefined;
  }

  /**
   * A refresh: the token is retired and its grant returned, or undefined when it is unknown,
   * expired or another client's. A retired token used again revokes its whole chain.
   */
  useRefreshToken(token: string, clientId: string): (Grant & { chain: string }) | undefined {
    const entry = this.refresh.get(token);
    if (!entry || entry.clientId !== clientId || entry.expiresAt <= this.now()) return undefined;
    if (entry.retired) {
      this.revokeChain(entry.chain);
      return undefined;
    }
    entry.retired = true;
    return entry;
  }

  /** Revokes a token of either kind, and with it every token of its login (RFC 7009 §2.1). */
  revoke(token: string, clientId: string): void {
    const chain = this.access.get(token)?.value.chain ?? this.refresh.get(token)?.chain;
    const owner = this.access.get(token)?.value.clientId ?? this.refresh.get(token)?.clientId;
    if (chain && owner === clientId) this.revokeChain(chain);
  }

  private revokeChain(chain: string): void {
    for (const [token, entry] of this.access) if (entry.value.chain === chain) this.access.delete(token);
    for (const [token, entry] of this.refresh) if (entry.chain === chain) this.refresh.delete(token);
  }

  /** Drops what has expired. */
  private sweep(): void {
    const now = this.now();
    for (const map of [this.pending, this.codes, this.access] as Array<Map<string, { expiresAt: number }>>)
      for (const [key, entry] of map) if (entry.expiresAt <= now) map.delete(key);
    for (const [token, entry] of this.refresh) if (entry.expiresAt <= now) this.refresh.delete(token);
  }
}
