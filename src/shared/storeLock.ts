import { link, open, readFile, rename, rm, stat, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { LockTimeoutError, LockUnavailableError } from './errors.js';
import { ensurePrivateDir, FILE_MODE } from './atomicFile.js';
import { ignoreFailure, settled } from './bestEffort.js';

interface LockOwner {
  pid: number;
  host: string;
  acquired_at: number;
  /** Unique per acquisition: a holder removes the file only if it still names this. */
  nonce?: string;
}

/** The holder touches its lock file this often, however long it holds it (a login can take minutes). */
const HEARTBEAT_MS = 10_000;
/** A lock file untouched for this long is taken over even if its owner looks alive (pid reuse, a frozen process). */
const STALE_AFTER_MS = 6 * HEARTBEAT_MS;

/**
 * Runs `fn` holding an exclusive lock shared by every gateway process using the same store:
 * a `lock` file created with O_EXCL that names its owner. A lock whose owner process is
 * dead is taken over (by exactly one waiter: the take-over is a rename).
 */
export async function withStoreLock<T>(dir: string, fn: () => Promise<T>, { timeoutMs = 60_000, pollMs = 50 } = {}): Promise<T> {
  const path = join(dir, 'lock');
  const nonce = randomBytes(8).toString('hex');
  try {
    await ensurePrivateDir(dir);
  } catch (error) {
    throw new LockUnavailableError(path, error);
  }
  const started = Date.now();
  for (;;) {
    let created: boolean;
    try {
      created = await tryCreate(path, nonce);
    } catch (error) {
      throw new LockUnavailableError(path, error);
    }
    if (created) break;
    const owner = await readOwner(path);
    if (await isAbandoned(path, owner)) {
      await takeOver(path, owner);
      continue;
    }
    if (Date.now() - started > timeoutMs) throw new LockTimeoutError(path, owner, Date.now() - started);
    await new Promise((resolve) => setTimeout(resolve, pollMs + Math.random() * pollMs));
  }
  const heartbeat = setInterval(() => {
    const now = new Date();
    ignoreFailure(utimes(path, now, now));
  }, HEARTBEAT_MS);
  heartbeat.unref();
  try {
    return await fn();
  } finally {
    clearInterval(heartbeat);
    // Only our own lock: if it was taken over meanwhile, the file is someone else's now.
    if ((await readOwner(path))?.nonce === nonce) await rm(path, { force: true });
  }
}

async function tryCreate(path: string, nonce: string): Promise<boolean> {
  try {
    const handle = await open(path, 'wx', FILE_MODE);
    const owner: LockOwner = { pid: process.pid, host: hostname(), acquired_at: Date.now(), nonce };
    await handle.writeFile(JSON.stringify(owner));
    await handle.close();
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

async function readOwner(path: string): Promise<LockOwner | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as LockOwner;
  } catch {
    return undefined;
  }
}

async function isAbandoned(path: string, owner: LockOwner | undefined): Promise<boolean> {
  let age: number;
  try {
    age = Date.now() - (await stat(path)).mtimeMs;
  } catch {
    return false; // Gone already: the next create attempt decides.
  }
  if (age > STALE_AFTER_MS) return true;
  if (!owner) return age > 2000; // Half-written by a process that died at once.
  if (owner.host !== hostname()) return false;
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Moves an abandoned lock aside. Only one waiter's rename succeeds; another waiter that read
 * the same dead owner may, racing, move aside a lock just created by the winner: it sees a
 * different owner in what it moved, and links it back (link fails if a lock exists again).
 */
async function takeOver(path: string, judged: LockOwner | undefined): Promise<void> {
  const aside = `${path}.stale.${randomBytes(4).toString('hex')}`;
  try {
    await rename(path, aside);
  } catch {
    return; // Someone else moved it: retry the create.
  }
  const moved = await readOwner(aside);
  if (moved && judged && (moved.nonce !== judged.nonce || moved.pid !== judged.pid || moved.acquired_at !== judged.acquired_at)) {
    await settled(link(aside, path));
  }
  await rm(aside, { force: true });
}
