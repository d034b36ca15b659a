import type { GatewayConfig } from '../config/types.js';
import { createTokenStore, type RuntimeOptions } from './gatewayRuntime.js';
import { errorMessage, Logger } from '../log/logger.js';
import { allTargets } from './authTargets.js';
import { formatIdentityProviderStatus, identityProviderStatus, type IdentityProviderStatus } from './authIdentityProvider.js';
import { describeExpiry } from './describeLogin.js';
import { ExitCode } from './exitCodes.js';

export interface LoginStatus {
  name: string;
  url: string;
  configured: boolean;
  authenticated: boolean;
  expired?: boolean;
  expiresAt?: string;
  scopes?: string[];
  refreshToken: boolean;
  client: { source: 'dcr' | 'static'; clientId: string } | null;
  storedIn: string;
  /** For people: "the access token expires in 42 min". */
  summary?: string;
  error?: string;
}

/** `gateway auth status [--json]`: what the store holds for each server. Never prints a token. */
export async function authStatus(config: GatewayConfig | undefined, options: RuntimeOptions & { json?: boolean }): Promise<number> {
  const store = createTokenStore(config, options, new Logger({ level: 'error' }));
  const statuses: LoginStatus[] = [];
  let identityProvider: IdentityProviderStatus | undefined;
  for (const target of await allTargets(config, store)) {
    if (target.identityProvider) {
      identityProvider = await identityProviderStatus(store, target);
      continue;
    }
    const status: LoginStatus = {
      name: target.name,
      url: target.url,
      configured: Boolean(target.config),
      authenticated: false,
      refreshToken: false,
      client: target.config?.oauth?.clientId ? { source: 'static', clientId: target.config.oauth.clientId } : null,
      storedIn: store.location(target.url),
    };
    try {
      const tokens = await store.readTokens(target.url);
      const client = status.client ? undefined : await store.readClient(target.url);
      if (client) status.client = { source: 'dcr', clientId: client.client_id };
      if (tokens) {
        status.authenticated = true;
        status.refreshToken = Boolean(tokens.refresh_token);
        status.scopes = tokens.scope ? tokens.scope.split(' ') : [];
        if (tokens.expires_at !== undefined) {
          status.expiresAt = new Date(tokens.expires_at).toISOString();
          status.expired = tokens.expires_at <= Date.now();
        }
        status.summary = describeExpiry(tokens);
      }
    } catch (error) {
      status.error = errorMessage(error);
    }
    statuses.push(status);
  }
  if (options.json) {
    const json = { store: { root: store.root, mode: store.mode }, ...(identityProvider ? { identityProvider } : {}), servers: statuses };
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
    return ExitCode.Ok;
  }
  const lines = [`Token store: ${store.root} (${store.mode})`, ''];
  if (identityProvider) lines.push(...formatIdentityProviderStatus(identityProvider));
  if (!statuses.length) lines.push('No HTTP servers are configured and no logins are stored.');
  for (const status of statuses) {
    const mark = status.error ? '✗' : !status.authenticated ? '·' : status.expired && !status.refreshToken ? '!' : '✓';
    lines.push(`${mark} ${status.configured ? status.name : '(not in the config)'}  ${status.url}`);
    if (status.error) {
      lines.push(`    cannot read the login: ${status.error}`);
    } else if (status.authenticated) {
      const renew = status.refreshToken
        ? 'a refresh token renews it'
        : status.expired
          ? 'no refresh token: log in again'
          : 'no refresh token';
      lines.push(`    logged in: ${status.summary}; ${renew}`);
      lines.push(`    scopes: ${status.scopes?.length ? status.scopes.join(' ') : '(none named)'}`);
    } else {
      lines.push(
        `    not logged in${status.configured ? ` (the gateway logs in when the server asks; or run: gateway auth login ${status.name})` : ''}`,
      );
    }
    lines.push(
      `    client: ${
        status.client
          ? status.client.source === 'static'
            ? `static, from the config (client_id ${status.client.clientId})`
            : `registered by the gateway (dynamic registration, client_id ${status.client.clientId})`
          : 'none registered yet'
      }`,
    );
    lines.push(`    stored in: ${status.storedIn}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return ExitCode.Ok;
}
