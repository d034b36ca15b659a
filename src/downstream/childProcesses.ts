/**
 * Every stdio child the gateway started, so that none outlives it: when the gateway
 * process exits for any reason, the ones still running are killed.
 */
const live = new Set<number>();
let hooked = false;

export function trackChild(pid: number | null | undefined): void {
  if (!pid) return;
  live.add(pid);
  if (!hooked) {
    hooked = true;
    process.once('exit', killAllChildren);
  }
}

export function untrackChild(pid: number | null | undefined): void {
  if (pid) live.delete(pid);
}

export function killAllChildren(): void {
  for (const pid of live) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  live.clear();
}
