import { gatewayPaths } from '../config/gatewayPaths.js';
import type { GatewayConfig, IdentityProviderConfig } from '../config/types.js';
import type { IdentityProvider } from '../oauth/identity/identityProvider.js';
import { DownstreamSet } from '../downstream/downstreamSet.js';
import type { AuthSettings, DownstreamRuntime } from '../downstream/downstream.js';
import { CatalogCache } from '../downstream/catalogCache.js';
import { join } from 'node:path';
import { Logger, type LogLevel } from '../log/logger.js';
import { createBackend } from '../oauth/storage/createBackend.js';
import type { TokenStoreMode } from '../oauth/storage/storeBackend.js';
import { TokenStore } from '../oauth/tokenStore.js';

export interface RuntimeOptions {
  logLevel?: LogLevel;
  logFile?: string;
  /** Print login URLs instead of opening a browser. */
  noBrowser?: boolean;
  /** Never start an interactive login: servers that need one fail with what to do. */
  headless?: boolean;
  /** `--token-store`: overrides `gateway.tokenStore`. */
  tokenStore?: TokenStoreMode;
}

export function createLogger(config: GatewayConfig, options: RuntimeOptions): Logger {
  return new Logger({
    level: options.logLevel ?? config.gateway.logLevel ?? 'info',
    file: options.logFile ?? config.gateway.logFile,
  });
}

/** The token store the config and options ask for (file by default), under MCP_GATEWAY_HOME or the user data dir. */
export function createTokenStore(config: GatewayConfig | undefined, options: RuntimeOptions, log?: Logger): TokenStore {
  const root = gatewayPaths().data;
  const mode = options.tokenStore ?? config?.gateway.tokenStore ?? 'file';
  return new TokenStore(root, log, createBackend(mode, root));
}

const IDP_LOG_NAME = 'identity-provider';

/**
 * The identity provider's sign-in for `gateway.identityProvider`, made (and its code loaded) on
 * first use, then shared by every server of this process. Its login URL is shown as the servers'
 * are (the MCP client's elicitation when `serve` has one, else a browser or the printed URL).
 */
export function lazyIdentityProvider(config: IdentityProviderConfig, auth: AuthSettings, log: Logger): () => Promise<IdentityProvider> {
  let made: Promise<IdentityProvider> | undefined;
  return () =>
    (made ??= import('../oauth/identity/identityProvider.js').then(
      ({ IdentityProvider: Provider }) =>
        new Provider(config, {
          store: auth.store,
          log,
          noBrowser: auth.noBrowser,
          headless: auth.headless,
          callbackTimeoutMs: auth.callbackTimeoutMs,
          presentLoginUrl: (url) => auth.presentLoginUrl?.(IDP_LOG_NAME, url) ?? false,
        }),
    ));
}

/** Each server's last catalog, under the data directory (unless `gateway.catalogCache` is false). */
export function createCatalogCache(config: GatewayConfig): CatalogCache | undefined {
  return config.gateway.catalogCache === false ? undefined : new CatalogCache(join(gatewayPaths().data, 'catalogs'));
}

/**
 * The logger and downstreams that `serve` and `list` both start from a config. `runtime` is
 * shared by every downstream; `serve` sets what its client declared there.
 */
export function createRuntime(
  config: GatewayConfig,
  options: RuntimeOptions,
): { log: Logger; downstreams: DownstreamSet; authSettings: AuthSettings; runtime: DownstreamRuntime } {
  const log = createLogger(config, options);
  for (const warning of config.warnings) log.warn(warning);
  const store = createTokenStore(config, options, log);
  const auth: AuthSettings = {
    store,
    noBrowser: options.noBrowser,
    headless: options.headless,
    callbackTimeoutMs: config.gateway.callbackTimeout,
  };
  if (config.gateway.identityProvider) auth.identity = lazyIdentityProvider(config.gateway.identityProvider, auth, log.child(IDP_LOG_NAME));
  const runtime: DownstreamRuntime = { auth, cache: createCatalogCache(config) };
  return { log, downstreams: new DownstreamSet(config, log, runtime), authSettings: auth, runtime };
}
