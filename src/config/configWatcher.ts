import { watchFile } from '../shared/watchFile.js';
import { loadConfig } from './loadConfig.js';
import type { GatewayConfig } from './types.js';

/**
 * Watches the config file while serving: a valid new config goes to `onChange`, an invalid
 * one to `onError` (the caller keeps what it runs).
 */
export function watchConfig(path: string, onChange: (config: GatewayConfig) => void, onError: (message: string) => void): () => void {
  return watchFile(
    path,
    () => {
      try {
        onChange(loadConfig(path));
      } catch (error) {
        onError((error as Error).message);
      }
    },
    onError,
  );
}
