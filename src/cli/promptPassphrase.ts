import { openSync, closeSync, readSync, writeSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { PassphraseError } from '../shared/errors.js';

/**
 * A passphrase: MCP_GATEWAY_PASSPHRASE if set, else typed at the terminal without echo
 * (twice when `confirm`). Undefined when neither is possible.
 */
export function readPassphrase(question: string, { confirm = false, env = process.env } = {}): string | undefined {
  if (env.MCP_GATEWAY_PASSPHRASE) return env.MCP_GATEWAY_PASSPHRASE;
  let fd: number;
  try {
    fd = openSync('/dev/tty', 'r+');
  } catch {
    return undefined;
  }
  try {
    const first = askHidden(fd, question);
    if (!first) throw new PassphraseError('an empty passphrase is not allowed');
    if (confirm && askHidden(fd, 'Again, to confirm: ') !== first) throw new PassphraseError('the two passphrases differ');
    return first;
  } finally {
    closeSync(fd);
  }
}

function askHidden(fd: number, question: string): string {
  writeSync(fd, question);
  const stty = (mode: string) => spawnSync('stty', [mode], { stdio: [fd, 'ignore', 'ignore'] });
  stty('-echo');
  try {
    const buffer = Buffer.alloc(1);
    const bytes: number[] = [];
    while (readSync(fd, buffer, 0, 1, null) === 1 && buffer[0] !== 0x0a && buffer[0] !== 0x0d) bytes.push(buffer[0]!);
    return Buffer.from(bytes).toString('utf8');
  } finally {
    stty('echo');
    writeSync(fd, '\n');
  }
}
