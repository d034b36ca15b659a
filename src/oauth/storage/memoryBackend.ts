import type { EntryName, StoreBackend } from './storeBackend.js';

/** Nothing persisted: logins last as long as the process. */
export class MemoryBackend implements StoreBackend {
  readonly mode = 'memory' as const;
  private readonly entries = new Map<string, string>();

  describe(): string {
    return 'memory (this process only)';
  }

  async read(serverDir: string, name: EntryName): Promise<string | undefined> {
    return this.entries.get(`${serverDir}/${name}`);
  }

  async write(serverDir: string, name: EntryName, text: string): Promise<void> {
    this.entries.set(`${serverDir}/${name}`, text);
  }

  async remove(serverDir: string, name: EntryName): Promise<void> {
    this.entries.delete(`${serverDir}/${name}`);
  }
}
