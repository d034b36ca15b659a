import type { DownstreamSet } from '../downstream/downstreamSet.js';
import { MetaTools } from './meta/metaTools.js';
import { AccessRules } from './rules/accessRules.js';
import { ResourceCatalog } from './resourceCatalog.js';
import type { StartupGate } from './startupGate.js';
import type { ToolCallContext } from './toolCallFallback.js';
import { ownNames, PromptCatalog, ToolCatalog } from './toolCatalog.js';

export interface CatalogOptions {
  maxCallsInFlight?: number;
  /** `aggregate` (default) or `meta`. */
  mode?: 'aggregate' | 'meta';
  /** The agent this whole process serves (`--agent`, MCP_GATEWAY_AGENT). */
  agent?: string;
  /** The access rules in force (read on every check, so a reload applies at once). */
  rules?: () => AccessRules;
  /** Holds the first lists until the servers have settled (absent: lists answer at once). */
  startup?: StartupGate;
  /** One server bridged (`serve --server`): its own names, unprefixed, and no tool of the gateway's. */
  bridge?: boolean;
  /** The client sessions, for gateway__status (HTTP front only). */
  sessions?: () => unknown[];
}

/**
 * What every client of this process sees alike: the tool, prompt and resource catalogs (and
 * meta mode's tools), built against the access rules of the one agent the process serves.
 * Rebuilt once per change of the servers, however many clients are connected.
 */
export class GatewayCatalogs {
  readonly tools: ToolCatalog;
  readonly prompts: PromptCatalog;
  readonly resources: ResourceCatalog;
  readonly meta?: MetaTools;
  readonly rules: () => AccessRules;
  readonly callContext: ToolCallContext;

  constructor(
    readonly downstreams: DownstreamSet,
    readonly options: CatalogOptions = {},
  ) {
    const allowAll = AccessRules.allowAll();
    const rules = (this.rules = options.rules ?? (() => allowAll));
    const naming = options.bridge ? ownNames : undefined;
    this.tools = new ToolCatalog(downstreams.servers, (server, tool) => rules().allowsTool(options.agent, server, tool), naming);
    if (options.mode === 'meta')
      this.meta = new MetaTools(downstreams.servers, rules, options.agent, options.maxCallsInFlight, options.startup);
    // Prompts and resources follow the rules' server visibility (for requests with no agent: the defaults).
    const visible = (server: string) => this.allowsWholeServer(server);
    this.prompts = new PromptCatalog(downstreams.servers, visible, naming);
    this.resources = new ResourceCatalog(downstreams.servers, visible);
    this.callContext = {
      tools: this.tools,
      downstreams,
      allowsServer: (server) => rules().allowsServer(options.agent, server),
      sessions: options.sessions,
    };
    this.rebuild();
  }

  /** Whether the agent may use the whole server (its prompts, resources, requests and notifications). */
  allowsWholeServer(server: string): boolean {
    return this.rules().allowsWholeServer(this.options.agent, server);
  }

  /** The servers or the rules changed: every list is built again. */
  rebuild(): void {
    this.meta?.invalidate();
    this.tools.rebuild();
    this.prompts.rebuild();
    this.resources.rebuild();
  }
}
