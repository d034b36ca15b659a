import { link, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ensurePrivateDir, FILE_MODE } from './atomicFile.js';

interface LockOwner {
  pid: number;
  host: string;
  acquired_at: number;
}

export class LockTimeoutError extends Error {
  constructor(path: string, owner: LockOwner | undefined, waitedMs: number) {
    super(
      `another gateway process${owner ? ` (pid ${owner.pid})` : ''} has held ${path} for over ${Math.round(waitedMs / 1000)} s; ` +
        'if no gateway is logging in, delete that file',
    );
    this.name = 'LockTimeoutError';
  }
}

/** A lock file untouched for this long is taken over even if its owner looks alive (pid reuse). */
const STALE_AFTER_MS = 15 * 60 * 1000;

/**
 * Runs `fn` holding an exclusive lock shared by every gateway process using the same store:
 * a `lock` file created with O_EXCL that names its owner. A lock whose owner process is
 * dead is taken over (by exactly one waiter: the take-over is a rename).
 */
export async function withStoreLock<T>(dir: string, fn: () => Promise<T>, { timeoutMs = 60_000, pollMs = 50 } = {}): Promise<T> {
  const path = join(dir, 'lock');
  await ensurePrivateDir(dir);
  const started = Date.now();
  for (;;) {
    if (await tryCreate(path)) break;
    const owner = await readOwner(path);
    if (await isAbandoned(path, owner)) {
      await takeOver(path, owner);
      continue;
    }
    if (Date.now() - started > timeoutMs) throw new LockTimeoutError(path, owner, Date.now() - started);
    await new Promise((resolve) => setTimeout(resolve, pollMs + Math.random() * pollMs));
  }
  try {
    return await fn();
  } finally {
    await rm(path, { force: true });
  }
}

async function tryCreate(path: string): Promise<boolean> {
  try {
    const handle = await open(path, 'wx', FILE_MODE);
    const owner: LockOwner = { pid: process.pid, host: hostname(), acquired_at: Date.now() };
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
  if (moved && judged && (moved.pid !== judged.pid || moved.acquired_at !== judged.acquired_at)) {
    await link(aside, path).catch(() => {});
  }
  await rm(aside, { force: true });
}
