import { constants, type Stats } from 'node:fs';
import { chmod, lstat, open, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { TokenStoreUnavailableError } from '../shared/errors.js';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;
/** A temporary file older than this is left from an interrupted write (a write takes milliseconds). */
export const LEFTOVER_AGE_MS = 60_000;

/**
 * A token store file or directory the gateway will not use: a symbolic link, or owned by
 * another user. Nothing is read or written through it.
 */
export class UnsafeStoreEntryError extends TokenStoreUnavailableError {
  constructor(message: string) {
    super(message);
    this.name = 'UnsafeStoreEntryError';
  }
}

export interface HygieneOptions {
  /** Says what was fixed (a mode that was too wide), naming the file. */
  warn?: (message: string) => void;
  /** The user the store must belong to (default: this process's); undefined where there are no uids (Windows). */
  uid?: number;
}

const NOFOLLOW = constants.O_NOFOLLOW ?? 0;

/**
 * A store file's text, or undefined when it does not exist, read only if it is safe to: a
 * regular file (opened without following a symbolic link, O_NOFOLLOW), owned by the user;
 * a mode wider than 0600 is set to 0600 first, with a warning naming the file. Tokens in a
 * file others can read, or in one they could point elsewhere, are not the user's secrets.
 * @see [MCP Security Best Practices, token storage](https://modelcontextprotocol.io/specification/draft/basic/security_best_practices), [open(2) O_NOFOLLOW](https://man7.org/linux/man-pages/man2/open.2.html)
 */
export async function readPrivateFile(path: string, options: HygieneOptions = {}): Promise<string | undefined> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP' || code === 'EMLINK') throw symlinkError(path);
    throw error;
  }
  try {
    const info = await handle.stat();
    if (!NOFOLLOW && (await lstat(path)).isSymbolicLink()) throw symlinkError(path);
    if (!info.isFile()) throw new Error(`${path} is not a regular file`); // Unreadable, as a damaged file is: not a refusal.
    checkOwner(path, info.uid, options);
    if ((info.mode & 0o077) !== 0) {
      await handle.chmod(PRIVATE_FILE_MODE);
      options.warn?.(`${path} was readable or writable by others (mode ${octal(info.mode)}); set it to 0600`);
    }
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

/** The entry's own status (a link is not followed), or undefined when there is none. */
async function lstatIfExists(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Checks a store directory before anything in it is read or written: not a symbolic link, a
 * directory, owned by the user; a mode wider than 0700 is set to 0700 with a warning. Nothing
 * when it does not exist.
 */
export async function checkPrivateDir(dir: string, options: HygieneOptions = {}): Promise<void> {
  const info = await lstatIfExists(dir);
  if (!info) return;
  if (info.isSymbolicLink()) throw symlinkError(dir);
  if (!info.isDirectory()) throw new UnsafeStoreEntryError(`${dir} is not a directory; the token store needs it to be one. Remove it`);
  checkOwner(dir, info.uid, options);
  if ((info.mode & 0o077) !== 0) {
    await chmod(dir, PRIVATE_DIR_MODE);
    options.warn?.(`${dir} was open to others (mode ${octal(info.mode)}); set it to 0700`);
  }
}

/**
 * Checks a store file before the backend reads it (the directory was checked first, so no one
 * else can swap it in between): a regular file, not a link, owned by the user; a mode wider
 * than 0600 is set to 0600 with a warning naming the file. Nothing when it does not exist.
 */
export async function checkPrivateFile(path: string, options: HygieneOptions = {}): Promise<void> {
  const info = await lstatIfExists(path);
  if (!info) return;
  if (info.isSymbolicLink()) throw symlinkError(path);
  if (!info.isFile()) return; // A directory in its place is unreadable, reported by the read as a damaged file is.
  checkOwner(path, info.uid, options);
  if ((info.mode & 0o077) !== 0) {
    await chmod(path, PRIVATE_FILE_MODE);
    options.warn?.(`${path} was readable or writable by others (mode ${octal(info.mode)}); set it to 0600`);
  }
}

/** Refuses to write over a symbolic link or another user's file (a rename would replace it, but nothing is done through it). */
export async function checkWritableTarget(path: string, options: HygieneOptions = {}): Promise<void> {
  const info = await lstatIfExists(path);
  if (!info) return;
  if (info.isSymbolicLink()) throw symlinkError(path);
  checkOwner(path, info.uid, options);
}

/**
 * Removes the temporary files (`.<hex>.tmp`) an interrupted atomic write left in `dir`; only
 * those older than a minute, so another process's write in progress is never disturbed.
 * Returns the paths removed.
 */
export async function removeLeftoverTempFiles(dir: string, now = Date.now()): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names.filter((n) => /^\.[0-9a-f]+\.tmp$/.test(n))) {
    const path = join(dir, name);
    const info = await lstat(path).catch(() => undefined);
    if (!info || !(info.isFile() || info.isSymbolicLink()) || now - info.mtimeMs < LEFTOVER_AGE_MS) continue;
    await rm(path, { force: true });
    removed.push(path);
  }
  return removed;
}

function checkOwner(path: string, owner: number, { uid = process.getuid?.() }: HygieneOptions): void {
  if (uid === undefined || owner === uid) return;
  throw new UnsafeStoreEntryError(
    `${path} is owned by another user (uid ${owner}; this is uid ${uid}); the token store only uses files the user owns, ` +
      `so another user cannot plant or read tokens. Remove it (the server will need a new login) or give it to this user (chown)`,
  );
}

function symlinkError(path: string): UnsafeStoreEntryError {
  return new UnsafeStoreEntryError(
    `${path} is a symbolic link; the token store does not follow links (tokens could be read from or written to wherever it points). ` +
      `Replace it with a plain file or directory, or remove it (the server will need a new login)`,
  );
}

function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8)}`;
}
