import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { readFileIfExists, writeFileAtomic } from '../../shared/atomicFile.js';
import type { EntryName, StoreBackend } from './storeBackend.js';

/** Plain JSON files, 0600 in a 0700 directory, written atomically: the default, copyable store. */
export class FileBackend implements StoreBackend {
  readonly mode = 'file' as const;

  describe(serverDir: string): string {
    return serverDir;
  }

  read(serverDir: string, name: EntryName): Promise<string | undefined> {
    return readFileIfExists(join(serverDir, `${name}.json`));
  }

  write(serverDir: string, name: EntryName, text: string): Promise<void> {
    return writeFileAtomic(join(serverDir, `${name}.json`), text);
  }

  async remove(serverDir: string, name: EntryName): Promise<void> {
    await rm(join(serverDir, `${name}.json`), { force: true });
  }
}
