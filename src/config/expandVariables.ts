import { ConfigError } from '../shared/errors.js';

const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Expands `${VAR}` and `${VAR:-default}` in one string value.
 * A variable that is unset (and has no default) is an error naming it and where it was used.
 */
export function expandVariables(value: string, env: NodeJS.ProcessEnv, where: string): string {
  return value.replace(VARIABLE, (_match, name: string, fallback: string | undefined) => {
    const found = env[name];
    if (found !== undefined && found !== '') return found;
    if (fallback !== undefined) return fallback;
    if (found !== undefined) return found;
    throw new ConfigError(`${where}: environment variable ${name} is not set (set it, or write \${${name}:-default})`);
  });
}
