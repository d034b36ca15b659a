import type { OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { OAuthServerConfig } from '../config/types.js';
import type { Logger } from '../log/logger.js';
import { ensureDiscovery } from './discovery.js';
import type { FlowLog } from './flowLog.js';
import type { NetworkPolicy } from './networkPolicy.js';
import { checkEndpointUrl } from './urlRules.js';
import type { GatewayOAuthProvider } from './gatewayOAuthProvider.js';
import type { LoginSteps } from './loginSteps.js';
import { resourceIndicator } from './resourcePolicy.js';
import { loginScope } from './scopePolicy.js';
import type { ServerChallenges } from './serverChallenges.js';
import type { StoredTokens, TokenStore } from './tokenStore.js';

/** What every step of one server's OAuth (a grant, a login) works with; ServerAuth holds the state behind it. */
export interface AuthContext {
  readonly name: string;
  /** The MCP server's URL. */
  readonly url: string;
  readonly oauth: OAuthServerConfig | undefined;
  readonly store: TokenStore;
  readonly provider: GatewayOAuthProvider;
  /** The fetch for everything OAuth (see createOAuthFetch), noting each login step (see LoginSteps). */
  readonly fetchFn: FetchLike;
  /** The step a login is at, for the words of its failure. */
  readonly steps: LoginSteps;
  /** The running flow's logger (see FlowLog). */
  readonly log: Logger;
  /** The `resource_metadata` of the server's last 401, if it named one. */
  readonly resourceMetadataUrl: string | undefined;
  /** The authorization server, discovered once and kept (see ensureDiscovery). */
  discovery(): Promise<OAuthDiscoveryState>;
  /** The scope to ask for now (see loginScope). */
  scope(discovery: OAuthDiscoveryState): string | undefined;
  /** The RFC 8707 resource to send (see resourceIndicator). */
  resource(discovery: OAuthDiscoveryState): string | undefined;
}

/** The parts of ServerAuth an AuthContext reads its current state from. */
export interface AuthContextParts {
  name: string;
  url: string;
  oauth?: OAuthServerConfig;
  store: TokenStore;
  provider: GatewayOAuthProvider;
  fetchFn: FetchLike;
  steps: LoginSteps;
  flows: FlowLog;
  challenges: ServerChallenges;
  /** The tokens held now (their scope is kept in a step-up). */
  held: () => StoredTokens | undefined;
  /** Which networks URLs learned from the server may lead into. */
  network?: NetworkPolicy;
}

/** An AuthContext over ServerAuth's parts: the log, challenges and tokens are read at each use, never copied. */
export function createAuthContext(parts: AuthContextParts): AuthContext {
  const { name, url, oauth, store, provider, fetchFn, steps, flows, challenges, network } = parts;
  const machine = oauth?.grant === 'client_credentials';
  return {
    name,
    url,
    oauth,
    store,
    provider,
    fetchFn,
    steps,
    get log() {
      return flows.log;
    },
    get resourceMetadataUrl() {
      return challenges.resourceMetadata;
    },
    discovery: async () => {
      // Checked here, not only when fetched: the SDK's discovery takes a failed protected-resource
      // metadata request for "none published" and would go on without saying why.
      const learned = challenges.resourceMetadata;
      if (learned)
        await network?.checkUrl(
          checkEndpointUrl(learned, "the resource_metadata of the server's 401"),
          "the resource_metadata of the server's 401",
        );
      return ensureDiscovery(provider, {
        serverUrl: url,
        configuredMetadataUrl: oauth?.authServerMetadataUrl,
        resourceMetadataUrl: learned,
        fetchFn,
        log: flows.log,
      });
    },
    scope: (discovery) =>
      loginScope({
        challenged: challenges.scope,
        stepUp: challenges.stepUpScope,
        held: parts.held()?.scope,
        resourceScopes: discovery.resourceMetadata?.scopes_supported,
        configured: oauth?.scopes,
        serverScopes: (discovery.authorizationServerMetadata as { scopes_supported?: string[] } | undefined)?.scopes_supported,
        machine,
      }),
    resource: (discovery) => resourceIndicator(discovery, oauth, url),
  };
}
