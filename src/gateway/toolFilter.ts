import type { ToolFilter } from '../config/types.js';

function pattern(glob: string): RegExp {
  return new RegExp(`^${glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

/** Whether a tool is exposed under a server's `tools` filter: deny wins; without an allow list everything else is allowed. */
export function compileToolFilter(filter: ToolFilter | undefined): (tool: string) => boolean {
  if (!filter) return () => true;
  const allow = filter.allow?.map(pattern);
  const deny = (filter.deny ?? []).map(pattern);
  return (tool) => !deny.some((re) => re.test(tool)) && (!allow || allow.some((re) => re.test(tool)));
}
