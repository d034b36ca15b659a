import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ResultSchema, type Prompt, type Resource, type ResourceTemplate, type Tool } from '@modelcontextprotocol/sdk/types.js';

export type ListKind = 'tools' | 'resources' | 'prompts';

export interface ServerLists {
  tools?: Tool[];
  resources?: Resource[];
  resourceTemplates?: ResourceTemplate[];
  prompts?: Prompt[];
}

/** Every page of one list. */
async function allPages<T>(client: Client, method: string, key: string): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = (await client.request({ method, params: cursor ? { cursor } : {} } as never, ResultSchema)) as Record<string, unknown>;
    items.push(...((page[key] as T[] | undefined) ?? []));
    cursor = page.nextCursor as string | undefined;
  } while (cursor);
  return items;
}

/**
 * Reads a server's lists of the given kinds, in parallel; a list the server does not offer
 * (no capability) is empty. A server that lists resources but fails on templates has none.
 */
export async function fetchLists(client: Client, kinds: readonly ListKind[]): Promise<ServerLists> {
  const caps = client.getServerCapabilities() ?? {};
  const none = <T>(): Promise<T[]> => Promise.resolve([]);
  const [tools, resources, resourceTemplates, prompts] = await Promise.all([
    kinds.includes('tools') ? (caps.tools ? allPages<Tool>(client, 'tools/list', 'tools') : none<Tool>()) : undefined,
    kinds.includes('resources')
      ? caps.resources
        ? allPages<Resource>(client, 'resources/list', 'resources')
        : none<Resource>()
      : undefined,
    kinds.includes('resources')
      ? caps.resources
        ? allPages<ResourceTemplate>(client, 'resources/templates/list', 'resourceTemplates').catch(() => [])
        : none<ResourceTemplate>()
      : undefined,
    kinds.includes('prompts') ? (caps.prompts ? allPages<Prompt>(client, 'prompts/list', 'prompts') : none<Prompt>()) : undefined,
  ]);
  const lists: ServerLists = {};
  if (tools) lists.tools = tools;
  if (resources) lists.resources = resources;
  if (resourceTemplates) lists.resourceTemplates = resourceTemplates;
  if (prompts) lists.prompts = prompts;
  return lists;
}
