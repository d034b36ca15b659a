/**
 * Deadlines for many pending things (the relayed calls) on one timer: each key holds a
 * time; one timer is armed for the earliest, and when it fires every key past its time is
 * handed to `onExpired` (and forgotten) and the timer is armed for the next. Setting or
 * dropping a deadline is a Map write: no timer is created or cleared per call.
 *
 * The timer fires at the earliest deadline held when it was armed; a key finished before then
 * leaves it armed, and it then only looks at what is left (a scan of the keys, about once per
 * timeout period, under steady traffic or one call at a time). `clock` is injectable: tests
 * move a mock clock.
 */
export interface DeadlineClock {
  now(): number;
  setTimeout(fire: () => void, ms: number): unknown;
  clearTimeout(timer: unknown): void;
}

export const systemClock: DeadlineClock = {
  now: () => performance.now(),
  // Unreferenced: a deadline alone keeps no process alive (a call in flight has its server's pipe or socket open).
  setTimeout: (fire, ms) => setTimeout(fire, ms).unref(),
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout),
};

export class Deadlines<K> {
  private readonly due = new Map<K, number>();
  private timer: unknown;
  /** When the armed timer fires (Infinity: none armed). */
  private armedFor = Infinity;

  constructor(
    private readonly onExpired: (key: K) => void,
    private readonly clock: DeadlineClock = systemClock,
  ) {}

  /** `key` expires `ms` from now (again from now when it had a deadline). */
  set(key: K, ms: number): void {
    const at = this.clock.now() + ms;
    this.due.set(key, at);
    if (at < this.armedFor) this.arm(at);
  }

  /** The timer stays armed: when it fires it finds the key gone (a call finished early costs no timer work). */
  delete(key: K): void {
    this.due.delete(key);
  }

  has(key: K): boolean {
    return this.due.has(key);
  }

  private arm(at: number): void {
    this.disarm();
    this.armedFor = at;
    this.timer = this.clock.setTimeout(() => this.fire(), Math.max(0, Math.ceil(at - this.clock.now())));
  }

  private disarm(): void {
    if (this.armedFor === Infinity) return;
    this.clock.clearTimeout(this.timer);
    this.armedFor = Infinity;
  }

  private fire(): void {
    this.armedFor = Infinity;
    const now = this.clock.now();
    const expired: K[] = [];
    let next = Infinity;
    for (const [key, at] of this.due) {
      if (at <= now) expired.push(key);
      else if (at < next) next = at;
    }
    for (const key of expired) this.due.delete(key);
    if (next !== Infinity) this.arm(next);
    for (const key of expired) this.onExpired(key);
  }
}
