import type { ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';
import type { Downstream } from '../downstream/downstream.js';
import { describeState } from '../downstream/downstreamState.js';
import { BridgeUnavailableError } from '../shared/errors.js';
import type { UpstreamOptions } from './upstreamServer.js';

/** What a bridge passes on of its server's capabilities: what the gateway relays (no tasks, nothing experimental). */
const RELAYED: ReadonlyArray<keyof ServerCapabilities> = ['tools', 'resources', 'prompts', 'completions', 'logging'];

/**
 * `serve --server NAME`: the bridged server's own name, version, capabilities and
 * `instructions`, for its clients' `initialize`. Known only once it is ready; until then
 * (or when it failed) there is nothing to answer with.
 */
export function bridgeIdentity(server: Downstream): Pick<UpstreamOptions, 'identity' | 'instructions'> {
  const live = server.capabilities;
  if (server.state.status !== 'ready' || !live) throw new BridgeUnavailableError(server.name, describeState(server.state));
  const capabilities: ServerCapabilities = {};
  for (const key of RELAYED) if (live[key]) (capabilities as Record<string, unknown>)[key] = live[key];
  return {
    identity: { serverInfo: server.serverInfo ?? { name: server.name, version: '0.0.0' }, capabilities },
    ...(server.instructions ? { instructions: server.instructions } : {}),
  };
}
