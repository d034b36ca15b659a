import { spawn, spawnSync } from 'node:child_process';

/**
 * Every stdio server the gateway started, by its process group (POSIX: each server leads its
 * own group, see processGroupTransport.ts) or its process tree (Windows), so that none
 * outlives the gateway: whatever way the gateway exits (process.exit, a crash, the end of
 * its work, SIGINT/SIGTERM/SIGHUP with no handler of its own), the groups still running are
 * killed, wrappers such as `npx`, `sh -c` or `uv run` with everything they started.
 */
const live = new Set<number>();
let hooked = false;
const isWindows = process.platform === 'win32';
const FATAL_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export function trackChild(pid: number | null | undefined): void {
  if (!pid) return;
  live.add(pid);
  if (hooked) return;
  hooked = true;
  process.once('exit', killAllChildren);
  for (const signal of FATAL_SIGNALS) process.on(signal, onFatalSignal);
}

export function untrackChild(pid: number | null | undefined): void {
  if (pid) live.delete(pid);
}

/** Kills every tracked group at once, synchronously (usable in an 'exit' handler). */
export function killAllChildren(): void {
  for (const pid of live) signalGroup(pid, 'SIGKILL', { wait: true });
  live.clear();
}

/**
 * Sends a signal to the process group led by `pid`. Windows has no groups and no SIGTERM:
 * any signal ends the process tree (`taskkill /T /F`). Quiet when the group is gone.
 */
export function signalGroup(pid: number, signal: NodeJS.Signals, { wait = false } = {}): void {
  if (isWindows) {
    const args = ['/pid', String(pid), '/T', '/F'];
    if (wait) spawnSync('taskkill', args, { stdio: 'ignore', windowsHide: true });
    else spawn('taskkill', args, { stdio: 'ignore', windowsHide: true }).on('error', () => {});
    return;
  }
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/**
 * Once a server has exited (its pipes closed): kills what it left running in its group, at
 * once (a group id is not reused while any member lives). POSIX only: on Windows the tree
 * cannot be found once its root is gone.
 */
export function killLeftovers(pid: number): void {
  if (!isWindows) signalGroup(pid, 'SIGKILL');
}

/**
 * A signal that would end the gateway without an 'exit' event: children in their own groups
 * no longer get the terminal's Ctrl-C with it, so kill them, then let the signal do what it
 * would have done. A command with its own handler (`serve`) stops in its own way instead.
 */
function onFatalSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) return;
  killAllChildren();
  for (const each of FATAL_SIGNALS) process.removeListener(each, onFatalSignal);
  process.kill(process.pid, signal);
}
