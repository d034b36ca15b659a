import type { OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { OAuthServerConfig } from '../config/types.js';
import type { Logger } from '../log/logger.js';
import type { GatewayOAuthProvider } from './gatewayOAuthProvider.js';
import type { TokenStore } from './tokenStore.js';

/** What every step of one server's OAuth (a grant, a login) works with; ServerAuth holds the state behind it. */
export interface AuthContext {
  readonly name: string;
  /** The MCP server's URL. */
  readonly url: string;
  readonly oauth: OAuthServerConfig | undefined;
  readonly store: TokenStore;
  readonly provider: GatewayOAuthProvider;
  /** The fetch for everything OAuth (see createOAuthFetch). */
  readonly fetchFn: FetchLike;
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
