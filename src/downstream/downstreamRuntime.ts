import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { ClientCapabilities, JSONRPCMessage, Notification } from '@modelcontextprotocol/sdk/types.js';
import type { IdentityProvider } from '../oauth/identity/identityProvider.js';
import type { TokenStore } from '../oauth/tokenStore.js';
import type { CatalogCache } from './catalogCache.js';
import type { Downstream } from './downstream.js';
import type { RawText } from '../shared/rawText.js';

export const DEFAULT_CALL_TIMEOUT_MS = 60_000;

/** How HTTP servers log in: where tokens live and whether a browser may open. */
export interface AuthSettings {
  store: TokenStore;
  noBrowser?: boolean;
  headless?: boolean;
  callbackTimeoutMs?: number;
  /** Shows a server's login URL in the MCP client (URL elicitation) when the client can; true when it did. */
  presentLoginUrl?: (server: string, url: string) => boolean;
  /** The enterprise identity provider's sign-in (`gateway.identityProvider`), one for every server; made on first use. */
  identity?: () => Promise<IdentityProvider>;
}

/** What the gateway's client side does with each server's traffic (implemented by the upstream server). */
export interface DownstreamHooks {
  /** Prepares each new SDK client: handlers for the server's own requests it was `declared` able to make. */
  clientSetup(server: Downstream, client: Client, declared: ClientCapabilities): void;
  /** The server's notifications the gateway routes (log messages, resource updates, …). */
  onNotification(server: Downstream, notification: Notification): void;
  /** After every (re)connect: e.g. restore subscriptions and the log level. */
  onReady(server: Downstream): void;
  /** Sees every message from the server before the SDK client; true for those it takes (answers to relayed calls). */
  intercept(server: Downstream, message: JSONRPCMessage): boolean;
  /** Like `intercept`, for a stdio server's large lines, before they are parsed. */
  interceptRawLine(server: Downstream, line: RawText): boolean;
}

/**
 * What every downstream shares, made where the gateway is composed (cli). `hooks` and
 * `clientCapabilities` are filled in by `serve` once the upstream server exists, before any
 * server connects; `list` and `doctor` leave them empty (no client: nothing is declared).
 */
export interface DownstreamRuntime {
  auth?: AuthSettings;
  /** Each server's last catalog, for an instant warm start; absent: no cache. */
  cache?: CatalogCache;
  /** What each server is told its client can do: what the gateway's own client declared. */
  clientCapabilities?: () => ClientCapabilities;
  hooks?: DownstreamHooks;
}
