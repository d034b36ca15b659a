import type { ToolFilter } from '../config/types.js';

/** A `*` glob as an anchored regular expression (every other character literal). */
export function globPattern(glob: string): RegExp {
  return new RegExp(
    `^${glob
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
}

const compiled = new WeakMap<ToolFilter, (tool: string) => boolean>();
const allowEverything = () => true;

/**
 * Whether a tool is exposed under a server's `tools` filter: deny wins; without an allow list
 * everything else is allowed. Compiled once per filter object.
 */
export function compileToolFilter(filter: ToolFilter | undefined): (tool: string) => boolean {
  if (!filter) return allowEverything;
  let test = compiled.get(filter);
  if (!test) {
    const allow = filter.allow?.map(globPattern);
    const deny = (filter.deny ?? []).map(globPattern);
    test = (tool) => !deny.some((re) => re.test(tool)) && (!allow || allow.some((re) => re.test(tool)));
    compiled.set(filter, test);
  }
  return test;
}
