import { createCipheriv, createDecipheriv, randomBytes, scrypt } from 'node:crypto';

/** AES-256-GCM ciphertext as stored: base64 fields, bound to `aad` (what it is the content of). */
export interface Sealed {
  alg: 'A256GCM';
  iv: string;
  tag: string;
  data: string;
}

export function seal(key: Buffer, plaintext: string, aad: string): Sealed {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return { alg: 'A256GCM', iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') };
}

/** The plaintext, or an Error when the key is wrong or anything was altered (GCM authenticates it all). */
export function unseal(key: Buffer, sealed: Sealed, aad: string): string {
  if (sealed?.alg !== 'A256GCM' || typeof sealed.iv !== 'string' || typeof sealed.tag !== 'string' || typeof sealed.data !== 'string') {
    throw new Error('not an AES-256-GCM envelope');
  }
  // authTagLength: only a whole 16-byte tag is accepted; GCM would otherwise check a
  // truncated one (as short as 4 bytes) against just as many bytes of the real tag.
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'), { authTagLength: 16 });
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  try {
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()]).toString('utf8');
  } catch {
    throw new Error('decryption failed: wrong key, or the data was altered');
  }
}

export const SCRYPT_PARAMS = { N: 2 ** 15, r: 8, p: 1 } as const;

/** A 32-byte key from a passphrase (scrypt, N=2^15, r=8, p=1). */
export function deriveKey(passphrase: string, salt: Buffer, params: { N: number; r: number; p: number } = SCRYPT_PARAMS): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(passphrase, salt, 32, { ...params, maxmem: 128 * params.N * params.r * 2 }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}
