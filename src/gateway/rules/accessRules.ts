import { RulesError } from '../../shared/errors.js';
import { globPattern } from '../toolFilter.js';

/**
 * Which agent may reach which server and tool. The rules file:
 *
 *   {
 *     "defaults": { "allow": ["*"] },
 *     "agents": {
 *       "researcher": { "allow": ["notion", "github.search_*"], "deny": ["github.delete_*"] }
 *     }
 *   }
 *
 * Patterns are `server` (every tool of it) or `server.tool`, with `*` wildcards. Deny beats
 * allow; nothing allowed means nothing reachable. `defaults` applies to agents the file does
 * not name (and to calls with no agent at all); without `defaults`, everything is allowed.
 */
/** Where the rules are looked for when the config names no `gateway.rules`: beside the config. */
export const DEFAULT_RULES_FILE = '.mcp-gateway-rules.json';

export interface AgentPolicy {
  allow?: string[];
  deny?: string[];
}

export interface AccessRulesFile {
  defaults?: AgentPolicy;
  agents?: Record<string, AgentPolicy>;
}

interface CompiledPattern {
  server: RegExp;
  /** Undefined: the pattern names a whole server. */
  tool?: RegExp;
  /** `server` or `server.*`: every tool of the server. */
  whole: boolean;
}

interface CompiledPolicy {
  allow: CompiledPattern[];
  deny: CompiledPattern[];
}

function compilePattern(pattern: string): CompiledPattern {
  const dot = pattern.indexOf('.');
  return dot < 0
    ? { server: globPattern(pattern), whole: true }
    : { server: globPattern(pattern.slice(0, dot)), tool: globPattern(pattern.slice(dot + 1)), whole: pattern.slice(dot + 1) === '*' };
}

const ALLOW_ALL: CompiledPolicy = { allow: [compilePattern('*')], deny: [] };

export class AccessRules {
  private constructor(
    private readonly defaults: CompiledPolicy,
    private readonly agents: Map<string, CompiledPolicy>,
    readonly source?: string,
  ) {}

  static allowAll(): AccessRules {
    return new AccessRules(ALLOW_ALL, new Map());
  }

  /** Checks and compiles a parsed rules file; errors name the file and the field. */
  static parse(value: unknown, source: string): AccessRules {
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new RulesError(`${source}: must be a JSON object with "defaults" and "agents"`);
    const file = value as Record<string, unknown>;
    for (const key of Object.keys(file)) {
      if (key !== 'defaults' && key !== 'agents') throw new RulesError(`${source}: unknown field "${key}" (use "defaults" and "agents")`);
    }
    const policy = (raw: unknown, at: string): CompiledPolicy => {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
        throw new RulesError(`${source}: ${at}: must be an object with "allow" and/or "deny"`);
      const entry = raw as Record<string, unknown>;
      for (const key of Object.keys(entry))
        if (key !== 'allow' && key !== 'deny') throw new RulesError(`${source}: ${at}.${key}: unknown field (use "allow" and "deny")`);
      const list = (field: 'allow' | 'deny'): CompiledPattern[] => {
        const items = entry[field];
        if (items === undefined) return [];
        if (!Array.isArray(items) || items.some((item) => typeof item !== 'string' || !item)) {
          throw new RulesError(`${source}: ${at}.${field}: must be a list of "server" or "server.tool" patterns`);
        }
        return (items as string[]).map(compilePattern);
      };
      return { allow: list('allow'), deny: list('deny') };
    };
    const defaults = file.defaults === undefined ? ALLOW_ALL : policy(file.defaults, 'defaults');
    const agents = new Map<string, CompiledPolicy>();
    if (file.agents !== undefined) {
      if (typeof file.agents !== 'object' || file.agents === null || Array.isArray(file.agents))
        throw new RulesError(`${source}: agents: must be an object of agent ids`);
      for (const [agent, raw] of Object.entries(file.agents as Record<string, unknown>)) agents.set(agent, policy(raw, `agents.${agent}`));
    }
    return new AccessRules(defaults, agents, source);
  }

  private policyFor(agent: string | undefined): CompiledPolicy {
    return (agent !== undefined ? this.agents.get(agent) : undefined) ?? this.defaults;
  }

  /** Whether the agent may call this tool of this server. */
  allowsTool(agent: string | undefined, server: string, tool: string): boolean {
    const policy = this.policyFor(agent);
    const hits = (pattern: CompiledPattern) => pattern.server.test(server) && (!pattern.tool || pattern.tool.test(tool));
    return !policy.deny.some(hits) && policy.allow.some(hits);
  }

  /** Whether the agent may see the server at all: it is not denied whole, and some pattern allows it. */
  allowsServer(agent: string | undefined, server: string): boolean {
    const policy = this.policyFor(agent);
    if (policy.deny.some((pattern) => pattern.whole && pattern.server.test(server))) return false;
    return policy.allow.some((pattern) => pattern.server.test(server));
  }

  /**
   * Whether the agent may use the whole server (`server` or `server.*` allowed, no deny on any
   * of it): what its prompts, resources, log messages and requests to the client need.
   */
  allowsWholeServer(agent: string | undefined, server: string): boolean {
    const policy = this.policyFor(agent);
    if (policy.deny.some((pattern) => pattern.server.test(server))) return false;
    return policy.allow.some((pattern) => pattern.whole && pattern.server.test(server));
  }

  /** Whether the file names this agent (else the defaults apply). */
  knows(agent: string): boolean {
    return this.agents.has(agent);
  }
}
