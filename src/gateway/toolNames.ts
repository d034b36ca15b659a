/** Tools are exposed as `<server>__<tool>`; server names never contain `__` (config checks that). */
export const NAME_SEPARATOR = '__';

export function exposedToolName(server: string, tool: string): string {
  return `${server}${NAME_SEPARATOR}${tool}`;
}
