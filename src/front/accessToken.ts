import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensurePrivateDir, FILE_MODE, writeFileAtomic } from '../shared/atomicFile.js';

/** The HTTP front's token for local use, in the data directory (0600, in a 0700 directory). */
export function accessTokenPath(dataDir: string): string {
  return join(dataDir, 'http-token');
}

const newToken = () => randomBytes(32).toString('base64url');

/** The token, made on first use. Two processes starting at once agree: the file is created exclusively. */
export async function readOrCreateAccessToken(dataDir: string): Promise<string> {
  await ensurePrivateDir(dataDir);
  const path = accessTokenPath(dataDir);
  try {
    await writeFile(path, newToken(), { flag: 'wx', mode: FILE_MODE });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  for (let attempt = 0; ; attempt++) {
    const token = (await readFile(path, 'utf8')).trim();
    // Another process may be between creating the file and writing it.
    if (token || attempt >= 20) {
      await chmod(path, FILE_MODE);
      if (!token) throw new Error(`${path} is empty: delete it, or run gateway http-token --rotate`);
      return token;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A new token replaces the old one at once (a gateway serving reads it again). */
export async function rotateAccessToken(dataDir: string): Promise<string> {
  const token = newToken();
  await writeFileAtomic(accessTokenPath(dataDir), token);
  return token;
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/** The token of an `Authorization: Bearer …` header (RFC 6750 §2.1; the scheme is case-insensitive, RFC 9110 §11.1). */
export function bearerToken(header: string | undefined): string | undefined {
  const match = header ? /^bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header) : null;
  return match?.[1];
}

/**
 * Checks presented tokens against the current one in constant time: both sides are hashed
 * first, so neither the token's length nor its content shows in how long a refusal takes.
 */
export class AccessTokenCheck {
  private expected: Buffer;

  constructor(token: string) {
    this.expected = digest(token);
  }

  replace(token: string): void {
    this.expected = digest(token);
  }

  matches(presented: string | undefined): boolean {
    return presented !== undefined && timingSafeEqual(digest(presented), this.expected);
  }
}
