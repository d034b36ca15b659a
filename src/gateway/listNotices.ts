import { errorMessage, type Logger } from '../log/logger.js';

export type ListKind = 'tools' | 'resources' | 'prompts';

interface Catalog {
  rebuild(): void;
  signature(): string;
}

/**
 * `list_changed` for the client: only for a list it has seen (listed, or been told of) and
 * that now differs from what it saw, coalesced so that many servers changing together give
 * one notification per list, and only once the client has initialized.
 */
export class ListNotices {
  /** Each list as the client last saw it; unset until it lists it. */
  private readonly shown: Partial<Record<ListKind, string>> = {};
  private readonly pending = new Set<ListKind>();
  private timer?: NodeJS.Timeout;
  private clientReady = false;

  constructor(
    private readonly catalogs: Record<ListKind, Catalog>,
    private readonly notify: (kind: ListKind) => Promise<void>,
    private readonly log: Logger,
    /** Lists that never change for the client (meta mode's fixed tool list). */
    private readonly fixed: ReadonlySet<ListKind> = new Set(),
  ) {}

  /** The client is being sent this list as it is now. */
  listed(kind: ListKind): void {
    this.shown[kind] = this.catalogs[kind].signature();
  }

  /** Something changed: every list is rebuilt, and those the client saw differently are noted. */
  rebuild(): void {
    for (const kind of Object.keys(this.catalogs) as ListKind[]) this.catalogs[kind].rebuild();
    this.compare();
  }

  /** The catalogs were rebuilt (shared by several clients, by their owner): the lists the client saw differently are noted. */
  compare(): void {
    for (const kind of Object.keys(this.catalogs) as ListKind[]) {
      const shown = this.shown[kind];
      if (shown !== undefined && shown !== this.catalogs[kind].signature() && !this.fixed.has(kind)) this.pending.add(kind);
    }
    this.schedule();
  }

  /** The client finished `initialize`: notifications may go out. */
  initialized(): void {
    this.clientReady = true;
    this.schedule();
  }

  private schedule(): void {
    if (this.timer || !this.pending.size || !this.clientReady) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const kinds = [...this.pending];
      this.pending.clear();
      for (const kind of kinds) {
        this.listed(kind);
        this.notify(kind).catch((error: unknown) => this.log.debug(`${kind} list_changed not sent: ${errorMessage(error)}`));
      }
    }, 20);
  }

  close(): void {
    clearTimeout(this.timer);
  }
}
