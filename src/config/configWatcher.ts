import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { loadConfig } from './loadConfig.js';
import type { GatewayConfig } from './types.js';

/**
 * Watches the config file while serving. Editors save by writing in place or by renaming a
 * new file over the old one, so the directory is watched; changes are debounced, and a file
 * whose text did not change is ignored. A valid new config goes to `onChange`, an invalid one
 * to `onError` (the caller keeps what it runs).
 */
export function watchConfig(
  path: string,
  onChange: (config: GatewayConfig) => void,
  onError: (message: string) => void,
  { debounceMs = 150 } = {},
): () => void {
  let lastText: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  void readFile(path, 'utf8').then((text) => (lastText ??= text), () => {});
  const check = async () => {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      return; // Mid-save (renamed away for a moment): the next event brings it back.
    }
    if (text === lastText) return;
    lastText = text;
    try {
      onChange(loadConfig(path));
    } catch (error) {
      onError((error as Error).message);
    }
  };
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(path), (_event, file) => {
      if (file && file !== basename(path)) return;
      clearTimeout(timer);
      timer = setTimeout(() => void check(), debounceMs);
    });
    watcher.on('error', (error) => onError(`cannot watch ${path} any longer: ${error.message}`));
  } catch (error) {
    onError(`cannot watch ${path} for changes: ${(error as Error).message}`);
  }
  return () => {
    clearTimeout(timer);
    watcher?.close();
  };
}
