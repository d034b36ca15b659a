import type { Downstream } from '../downstream/downstream.js';
import { hasSettled } from '../downstream/downstreamState.js';
import type { Logger } from '../log/logger.js';

/**
 * Holds the first lists until the servers have settled. Claude Desktop (and other clients)
 * register only the tools of their first `tools/list` and ignore `list_changed` after it, so
 * that first answer must be complete: it waits until every enabled server without a cached
 * catalog is ready, failed, or needs a login that cannot finish by itself, or until the
 * deadline, whichever is first. Servers with a cached catalog never hold it (their cached
 * lists are shown). Once open, it stays open: later lists answer at once.
 */
export class StartupGate {
  private opened = false;
  private started?: number;
  private timer?: NodeJS.Timeout;
  private readonly waiters: Array<() => void> = [];
  private lastReported = '';

  constructor(
    private readonly servers: readonly Downstream[],
    private readonly timeoutMs: number,
    private readonly log: Logger,
    /** Subscribes to changes of any server's state (the DownstreamSet's `changed`). */
    private readonly onChange: (listener: () => void) => void,
  ) {}

  /** The servers start connecting: the deadline runs from now. */
  start(): void {
    if (this.started !== undefined) return;
    this.started = Date.now();
    this.timer = setTimeout(() => this.open(), this.timeoutMs);
    this.timer.unref();
    this.onChange(() => this.check());
    this.check();
  }

  /** Servers the first lists still wait for. */
  pending(): Downstream[] {
    return this.servers.filter((server) => server.state.status !== 'disabled' && !server.fromCache && !hasSettled(server.state));
  }

  /** Resolves when the first lists may be answered (at once, once open). */
  ready(): Promise<void> {
    if (this.opened) return Promise.resolve();
    this.report();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private check(): void {
    if (this.opened || this.started === undefined) return;
    if (!this.pending().length) this.open();
    else if (this.waiters.length) this.report();
  }

  /** Progress on stderr while a list waits: which servers it waits for. */
  private report(): void {
    const names = this.pending().map((server) => server.name);
    const text = names.join(', ');
    if (!names.length || text === this.lastReported) return;
    this.lastReported = text;
    this.log.info(
      `the first list waits for ${names.length} server${names.length === 1 ? '' : 's'} to start (at most ${Math.round(this.timeoutMs / 1000)} s): ${text}`,
    );
  }

  private open(): void {
    if (this.opened) return;
    this.opened = true;
    clearTimeout(this.timer);
    const late = this.pending();
    if (late.length && this.waiters.length) {
      this.log.warn(
        `answering the first list without ${late.map((server) => server.name).join(', ')}: not started after ${this.timeoutMs} ms (gateway.startupTimeout); their tools follow with list_changed`,
      );
    }
    for (const resolve of this.waiters.splice(0)) resolve();
  }

  close(): void {
    clearTimeout(this.timer);
    this.open();
  }
}
