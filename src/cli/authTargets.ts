import { UsageError } from '../shared/errors.js';
import type { GatewayConfig, HttpServerConfig, IdentityProviderConfig } from '../config/types.js';
import { canonicalServerUrl } from '../oauth/serverKey.js';
import type { TokenStore } from '../oauth/tokenStore.js';

/** A login the auth commands act on: a configured HTTP server, or a login the store holds for a server no longer configured. */
export interface AuthTarget {
  name: string;
  url: string;
  config?: HttpServerConfig;
  /** The identity provider's sign-in (`gateway.identityProvider`), stored under its issuer. */
  identityProvider?: IdentityProviderConfig;
}

/** The identity provider's sign-in as a login the auth commands act on (stored under its issuer). */
export function identityProviderTarget(config: GatewayConfig | undefined): AuthTarget {
  const identityProvider = config?.gateway.identityProvider;
  if (!identityProvider)
    throw new UsageError(`no gateway.identityProvider in ${config?.path ?? 'the config'}: there is no identity provider sign-in`);
  return { name: 'identity-provider', url: identityProvider.issuer, identityProvider };
}

/** The HTTP servers of the config, by name. A name that is not one is a usage error that lists them. */
export function configuredTargets(config: GatewayConfig | undefined, names: string[]): AuthTarget[] {
  const http = (config?.servers ?? []).filter((server): server is HttpServerConfig => server.kind === 'http');
  return names.map((name) => {
    const server = http.find((candidate) => candidate.name === name);
    if (server) return { name, url: server.url, config: server };
    const stdio = config?.servers.find((candidate) => candidate.name === name);
    const known = http.map((candidate) => candidate.name).join(', ') || 'none';
    if (stdio) throw new UsageError(`"${name}" is a stdio server; only HTTP servers log in (HTTP servers in ${config!.path}: ${known})`);
    throw new UsageError(`no server "${name}" in ${config?.path ?? 'the config'} (HTTP servers: ${known})`);
  });
}

/** Every configured HTTP server, the identity provider's sign-in if configured, then every stored login whose URL none of those has. */
export async function allTargets(config: GatewayConfig | undefined, store: TokenStore): Promise<AuthTarget[]> {
  const targets: AuthTarget[] = (config?.servers ?? [])
    .filter((server): server is HttpServerConfig => server.kind === 'http')
    .map((server) => ({ name: server.name, url: server.url, config: server }));
  if (config?.gateway.identityProvider) targets.push(identityProviderTarget(config));
  const known = new Set(targets.map((target) => canonicalServerUrl(target.url)));
  for (const stored of await store.listServers()) {
    if (!known.has(canonicalServerUrl(stored.url))) targets.push({ name: stored.url, url: stored.url });
  }
  return targets;
}
