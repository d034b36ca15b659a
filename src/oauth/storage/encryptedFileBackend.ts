import { basename } from 'node:path';
import { unseal, seal, type Sealed } from './aesGcm.js';
import { FileBackend } from './fileBackend.js';
import type { EntryName, StoreBackend } from './storeBackend.js';

/**
 * The file store's files, each encrypted with AES-256-GCM and bound to its server and entry
 * (a file moved to another server's directory does not decrypt). A plain file left from the
 * `file` mode is read as it is and encrypted at its next write.
 */
export class EncryptedFileBackend implements StoreBackend {
  readonly mode = 'encrypted' as const;
  private readonly files = new FileBackend();
  private key?: Promise<Buffer>;

  constructor(private readonly resolveKey: () => Promise<Buffer>) {}

  private getKey(): Promise<Buffer> {
    this.key ??= this.resolveKey().catch((error: unknown) => {
      this.key = undefined;
      throw error;
    });
    return this.key;
  }

  describe(serverDir: string): string {
    return `${serverDir} (encrypted, AES-256-GCM)`;
  }

  async read(serverDir: string, name: EntryName): Promise<string | undefined> {
    const key = await this.getKey();
    const text = await this.files.read(serverDir, name);
    if (text === undefined) return undefined;
    const envelope = JSON.parse(text) as { encrypted?: Sealed };
    if (!envelope.encrypted) return text;
    return unseal(key, envelope.encrypted, `${basename(serverDir)}/${name}`);
  }

  async write(serverDir: string, name: EntryName, text: string): Promise<void> {
    const key = await this.getKey();
    await this.files.write(serverDir, name, `${JSON.stringify({ encrypted: seal(key, text, `${basename(serverDir)}/${name}`) })}\n`);
  }

  remove(serverDir: string, name: EntryName): Promise<void> {
    return this.files.remove(serverDir, name);
  }
}
