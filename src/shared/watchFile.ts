import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';

/**
 * Watches one file for edits. Editors save by writing in place or by renaming a new file
 * over the old one, so the directory is watched; changes are debounced, and a save that
 * leaves the text as it was is ignored. `onChange` gets the new text; `onError` what went wrong.
 */
export function watchFile(
  path: string,
  onChange: (text: string) => void,
  onError: (message: string) => void,
  { debounceMs = 150 } = {},
): () => void {
  let lastText: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  void readFile(path, 'utf8').then(
    (text) => (lastText ??= text),
    () => {},
  );
  const check = async () => {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      return; // Mid-save (renamed away for a moment), or not there yet: the next event brings it.
    }
    if (text === lastText) return;
    lastText = text;
    onChange(text);
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
