import { errorMessage, type Logger } from '../log/logger.js';
import { LoginRequiredError } from '../shared/errors.js';
import type { TokenStore } from './tokenStore.js';

/** No automatic browser launch for a server more often than this (across processes). */
export const BROWSER_LAUNCH_INTERVAL_MS = 60_000;

/** browser.json: the recent automatic browser launches for a server, and whether the last one ended in a login. */
export interface LaunchRecord {
  launches: number[];
  completed: boolean;
  /** When the last login failed (refused, timed out, rejected): no automatic tab for a minute after. */
  failed_at?: number;
  /** When the last login got tokens the server has not accepted yet (it counts as completed only once it has). */
  tokens_at?: number;
}

/** Why no browser tab is opened now; the times are whole seconds. */
export type LaunchRefusal =
  | { because: 'failed'; agoS: number; retryInS: number }
  | { because: 'unfinished'; agoS: number; retryInS: number }
  | { because: 'not-accepted'; agoS: number; retryInS: number }
  | { because: 'two-logins'; retryInS: number };

/**
 * Whether an automatic browser launch may happen at `now`: none for a minute after a login
 * that failed, none while the last launch, less than a minute ago, has not completed a login
 * (it timed out, or its process died: a crash-restart loop never opens a storm of tabs), and
 * at most two a minute in any case. A login counts as completed only once the server has
 * accepted its token: a server that refuses every fresh token (a misconfigured audience or
 * scope) would otherwise have the gateway open a tab, get a token, be refused and open the next.
 * Undefined when the launch may go ahead.
 */
export function judgeLaunch(record: LaunchRecord, now: number): LaunchRefusal | undefined {
  if (record.failed_at !== undefined && now - record.failed_at < BROWSER_LAUNCH_INTERVAL_MS) {
    return { because: 'failed', agoS: Math.round((now - record.failed_at) / 1000), retryInS: secondsUntilFree(record.failed_at, now) };
  }
  const recent = recentLaunches(record.launches, now);
  if (!recent.length || (record.completed && recent.length < 2)) return undefined;
  if (record.completed) return { because: 'two-logins', retryInS: secondsUntilFree(Math.min(...recent), now) };
  const last = Math.max(...recent);
  if (record.tokens_at !== undefined && now - record.tokens_at < BROWSER_LAUNCH_INTERVAL_MS) {
    return { because: 'not-accepted', agoS: Math.round((now - record.tokens_at) / 1000), retryInS: secondsUntilFree(last, now) };
  }
  return { because: 'unfinished', agoS: Math.round((now - last) / 1000), retryInS: secondsUntilFree(last, now) };
}

/** The refusal in words, with what the user can do about it. */
export function launchRefusalMessage(refusal: LaunchRefusal, serverName: string, command = `gateway auth login ${serverName}`): string {
  const notOpening = 'not opening another browser tab automatically';
  switch (refusal.because) {
    case 'failed':
      return `a login for ${serverName} failed ${refusal.agoS} s ago; ${notOpening} (restart the gateway in ${refusal.retryInS} s, or run \`${command}\`)`;
    case 'two-logins':
      return `${serverName} needed two logins within a minute; ${notOpening} (restart the gateway in ${refusal.retryInS} s to try again)`;
    case 'not-accepted':
      return (
        `the last login for ${serverName}, ${refusal.agoS} s ago, got a token that ${serverName} refused; ${notOpening} ` +
        `(check what the server expects, e.g. its scopes or resource, then restart the gateway in ${refusal.retryInS} s or run \`${command}\`)`
      );
    case 'unfinished':
      return `a login for ${serverName} was started ${refusal.agoS} s ago and did not complete; ${notOpening} (restart the gateway in ${refusal.retryInS} s to try again)`;
  }
}

function recentLaunches(launches: number[], now: number): number[] {
  return launches.filter((at) => now - at < BROWSER_LAUNCH_INTERVAL_MS);
}

function secondsUntilFree(since: number, now: number): number {
  return Math.ceil((since + BROWSER_LAUNCH_INTERVAL_MS - now) / 1000);
}

/** The launch record of one server in the token store, shared by every gateway process using that store. */
export class LaunchLog {
  constructor(
    private readonly store: TokenStore,
    private readonly url: string,
  ) {}

  /** Throws LoginRequiredError (saying when to try again) if no browser may be opened automatically now. */
  async check(serverName: string, now = Date.now(), command?: string): Promise<void> {
    const refusal = judgeLaunch(await this.read(), now);
    if (refusal) throw new LoginRequiredError(launchRefusalMessage(refusal, serverName, command));
  }

  /** A browser launch for a login that has not finished yet. */
  launched(log: Logger, now = Date.now()): Promise<void> {
    return this.update((record) => ({ launches: [...record.launches, now], completed: false }), log, now);
  }

  /** The login got tokens; it is not completed until the server accepts them (see completed). */
  obtained(log: Logger, now = Date.now()): Promise<void> {
    return this.update((record) => ({ ...record, completed: false, failed_at: undefined, tokens_at: now }), log, now);
  }

  /** The server accepted a token: the last login is completed. */
  completed(log: Logger): Promise<void> {
    return this.update((record) => ({ ...record, completed: true, failed_at: undefined, tokens_at: undefined }), log);
  }

  /** Whether the last login's tokens still wait for the server to accept one. */
  async awaitingAcceptance(): Promise<boolean> {
    const record = await this.read();
    return !record.completed && record.tokens_at !== undefined;
  }

  failed(log: Logger, now = Date.now()): Promise<void> {
    return this.update((record) => ({ ...record, completed: false, failed_at: now }), log, now);
  }

  /** An unreadable record counts as "nothing launched": the limit must never stop a login for good. */
  async read(): Promise<LaunchRecord> {
    try {
      const text = await this.store.readMeta(this.url, 'browser');
      return parseLaunchRecord(text ? JSON.parse(text) : {});
    } catch {
      return { launches: [], completed: true };
    }
  }

  private async update(change: (record: LaunchRecord) => LaunchRecord, log: Logger, now = Date.now()): Promise<void> {
    const record = change(await this.read());
    record.launches = recentLaunches(record.launches, now);
    await this.store
      .writeMeta(this.url, 'browser', `${JSON.stringify(record)}\n`)
      .catch((error: unknown) => log.warn(`could not record the browser launch (${errorMessage(error)})`));
  }
}

function parseLaunchRecord(value: Partial<LaunchRecord>): LaunchRecord {
  return {
    launches: Array.isArray(value.launches) ? value.launches.filter((at) => typeof at === 'number') : [],
    completed: value.completed === true,
    ...(typeof value.failed_at === 'number' ? { failed_at: value.failed_at } : {}),
    ...(typeof value.tokens_at === 'number' ? { tokens_at: value.tokens_at } : {}),
  };
}
