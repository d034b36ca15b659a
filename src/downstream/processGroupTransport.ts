/**
 * The MCP client transport over a stdio server's pipes, with the server in its own process
 * group so that ending the server ends everything it started.
 *
 * Why this goes under the SDK: its StdioClientTransport spawns the server in the gateway's
 * own process group and, on close, signals only the process it spawned. A server started
 * through `npx`, `sh -c` or `uv run` is a wrapper with the real server under it; when the
 * real one ignores stdin EOF and SIGTERM, the wrapper dies and the server lives on, orphaned.
 * The SDK offers no hook for spawn options or for how it ends the process, so this module
 * implements the SDK's public Transport interface itself (no SDK internals are touched: see
 * shared/sdkInternals.ts for those), with the SDK's semantics otherwise (cross-spawn,
 * newline-delimited JSON-RPC, stdin EOF first, then SIGTERM, then SIGKILL):
 * - POSIX: spawned `detached` (a new session, so a new process group led by the server's
 *   pid); stop signals go to the whole group (`kill(-pid)`).
 * - Windows (no groups): the process tree is ended with `taskkill /T /F`.
 * Nothing else should spawn stdio servers; childProcesses.ts kills the groups still running
 * when the gateway exits.
 */
import type { ChildProcess } from 'node:child_process';
import { PassThrough } from 'node:stream';
import spawn from 'cross-spawn';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { LineMessageBuffer } from '../shared/lineMessageBuffer.js';
import { LineWriter } from '../shared/lineWriter.js';
import { killLeftovers, signalGroup, trackChild, untrackChild } from './childProcesses.js';

/** How long a server has to exit after its stdin closes, then after SIGTERM (the SDK's values). */
export const STDIN_GRACE_MS = 2000;
export const TERM_GRACE_MS = 2000;

export interface StdioLaunch {
  command: string;
  args: string[];
  /** The child's whole environment. */
  env: Record<string, string>;
  cwd?: string;
}

export class ProcessGroupTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  /** Splits stdout into messages; its `rawLineHandler` sees each line first. */
  lineBuffer = new LineMessageBuffer();
  /** The server's stderr, readable before start() so that no early line is lost. */
  readonly stderr = new PassThrough();
  private child?: ChildProcess;
  private stdinWriter?: LineWriter;
  private closed?: Promise<void>;

  constructor(private readonly launch: StdioLaunch) {}

  /** The server's pid (on POSIX also its process group id) while it runs. */
  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  start(): Promise<void> {
    if (this.child) throw new Error('this stdio transport is already started');
    return new Promise((resolve, reject) => {
      const { command, args, env, cwd } = this.launch;
      const child = spawn(command, args, {
        env,
        cwd,
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: process.platform !== 'win32',
        windowsHide: true,
      });
      this.child = child;
      this.stdinWriter = new LineWriter(child.stdin!);
      this.closed = new Promise((done) => child.once('close', () => done()));
      child.once('spawn', () => {
        trackChild(child.pid);
        resolve();
      });
      child.on('error', (error) => {
        reject(error);
        this.onerror?.(error);
      });
      child.once('close', () => this.ended(child));
      child.stdin!.on('error', (error) => this.onerror?.(error));
      child.stdout!.on('error', (error) => this.onerror?.(error));
      child.stdout!.on('data', (chunk: Buffer) => this.received(chunk));
      child.stderr!.pipe(this.stderr);
    });
  }

  /** Messages sent in one turn of the event loop leave in one write (LineWriter). */
  async send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.child?.stdin;
    if (!stdin || !this.stdinWriter) throw new Error('Not connected');
    if (!this.stdinWriter.write(JSON.stringify(message))) await new Promise((resolve) => stdin.once('drain', resolve));
  }

  /** Ends the server: stdin EOF, then SIGTERM to its group, then SIGKILL, each after a grace period. */
  async close(): Promise<void> {
    const child = this.child;
    const closed = this.closed;
    this.child = undefined;
    if (child?.pid && closed) {
      try {
        child.stdin?.end();
      } catch {
        // Already closed.
      }
      if (!(await settlesWithin(closed, STDIN_GRACE_MS))) {
        signalGroup(child.pid, 'SIGTERM');
        if (!(await settlesWithin(closed, TERM_GRACE_MS))) signalGroup(child.pid, 'SIGKILL');
      }
    }
    this.lineBuffer.clear();
  }

  private received(chunk: Buffer): void {
    try {
      this.lineBuffer.append(chunk);
    } catch (error) {
      this.onerror?.(error as Error); // A line over the limit, dropped whole; the lines after it are read.
    }
    for (;;) {
      try {
        const message = this.lineBuffer.readMessage();
        if (message === null) return;
        this.onmessage?.(message);
      } catch (error) {
        this.onerror?.(error as Error);
      }
    }
  }

  /** The server exited and its pipes closed: whatever it left in its group goes too. */
  private ended(child: ChildProcess): void {
    if (child.pid) {
      killLeftovers(child.pid);
      untrackChild(child.pid);
    }
    if (this.child === child) this.child = undefined;
    this.onclose?.();
  }
}

function settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    timer.unref();
  });
  return Promise.race([promise.then(() => true), timeout]).finally(() => clearTimeout(timer));
}
