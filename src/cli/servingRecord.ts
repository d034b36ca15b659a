import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../shared/atomicFile.js';

/** A gateway serving over HTTP, as `gateway list` finds it. */
export interface ServingRecord {
  pid: number;
  url: string;
  config: string;
}

/** One file per serving process, so two never write the same one. */
const dirOf = (dataDir: string) => join(dataDir, 'serving');

export async function recordServing(dataDir: string, record: ServingRecord): Promise<void> {
  await writeFileAtomic(join(dirOf(dataDir), `${record.pid}.json`), JSON.stringify(record), { durable: false });
}

export async function forgetServing(dataDir: string, pid: number): Promise<void> {
  await rm(join(dirOf(dataDir), `${pid}.json`), { force: true });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The gateways serving over HTTP now (records of processes that are gone are removed). */
export async function servingNow(dataDir: string): Promise<ServingRecord[]> {
  let files: string[];
  try {
    files = await readdir(dirOf(dataDir));
  } catch {
    return [];
  }
  const records: ServingRecord[] = [];
  for (const file of files.filter((name) => name.endsWith('.json'))) {
    try {
      const record = JSON.parse(await readFile(join(dirOf(dataDir), file), 'utf8')) as ServingRecord;
      if (alive(record.pid)) records.push(record);
      else await forgetServing(dataDir, record.pid);
    } catch {
      // Being written, or not one of ours: skipped.
    }
  }
  return records;
}
