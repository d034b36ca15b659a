import type { Downstream } from '../downstream/downstream.js';

const PER_SERVER_MAX = 2000;
const TOTAL_MAX = 8000;

/**
 * The gateway's own `instructions` (its `initialize` result): each server's instructions
 * under its name, as the catalog cache holds them. `initialize` is answered before any server
 * has started, so a server seen for the first time contributes its instructions from the
 * next start on. Bounded: a server's text is cut at 2,000 characters, the whole at 8,000.
 */
export function gatewayInstructions(servers: readonly Downstream[], mode: 'aggregate' | 'meta' = 'aggregate'): string | undefined {
  const sections: string[] = [];
  let size = 0;
  for (const server of servers) {
    const text = server.state.status === 'disabled' ? undefined : server.instructions?.trim();
    if (!text) continue;
    const section = `## ${server.name}\n${cut(text, PER_SERVER_MAX)}`;
    if (size + section.length > TOTAL_MAX) break;
    sections.push(section);
    size += section.length;
  }
  if (!sections.length) return undefined;
  const naming =
    mode === 'meta' ? 'Reach their tools with search_tools, get_server_tools and execute_tool.' : 'Their tools are named <server>__<tool>.';
  return [`This gateway combines several MCP servers. ${naming} What each server says of itself:`, ...sections].join('\n\n');
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
