import { existsSync, readFileSync } from 'node:fs';
import { watchFile } from '../../shared/watchFile.js';
import type { Logger } from '../../log/logger.js';
import { RulesError } from '../../shared/errors.js';
import { AccessRules } from './accessRules.js';

/**
 * The access rules in force, from a file that is watched: an edit that parses replaces them
 * (the callback says so), an invalid one is reported and the previous rules stay.
 * No file: everything is allowed.
 */
export class RulesFile {
  rules: AccessRules;
  private stop?: () => void;

  constructor(
    readonly path: string | undefined,
    private readonly log: Logger,
  ) {
    this.rules = path && existsSync(path) ? RulesFile.load(path) : AccessRules.allowAll();
  }

  static load(path: string): AccessRules {
    let value: unknown;
    try {
      value = JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
      throw new RulesError(`${path}: ${(error as Error).message}`, { cause: error });
    }
    return AccessRules.parse(value, path);
  }

  /** Starts watching; `onChange` runs after rules were replaced. */
  watch(onChange: () => void): void {
    if (!this.path) return;
    const path = this.path;
    this.stop = watchFile(
      path,
      () => {
        try {
          this.rules = RulesFile.load(path);
          this.log.info(`${path}: access rules reloaded`);
          onChange();
        } catch (error) {
          this.log.error(`access rules not reloaded: ${(error as Error).message}; the previous rules stay in force`);
        }
      },
      (message) => this.log.error(`access rules: ${message}`),
    );
  }

  close(): void {
    this.stop?.();
  }
}
