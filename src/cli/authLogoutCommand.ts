import type { GatewayConfig } from '../config/types.js';
import { UsageError } from '../shared/errors.js';
import { createTokenStore, type RuntimeOptions } from './gatewayRuntime.js';
import { errorMessage, Logger } from '../log/logger.js';
import { NetworkPolicy } from '../oauth/networkPolicy.js';
import { createOAuthFetch } from '../oauth/oauthFetch.js';
import { revokeToken } from '../oauth/revokeToken.js';
import { allTargets, configuredTargets, identityProviderTarget, type AuthTarget } from './authTargets.js';
import { ExitCode } from './exitCodes.js';

/**
 * `gateway auth logout [<server> | --all]`: revoke the tokens at the authorization server
 * (RFC 7009) when it offers that, then delete the local login; say which happened.
 */
export async function authLogout(
  config: GatewayConfig | undefined,
  names: string[],
  options: RuntimeOptions & { all?: boolean; idp?: boolean },
): Promise<number> {
  if (!options.all && !options.idp && !names.length)
    throw new UsageError(`name a server to log out of, or use ${config?.gateway.identityProvider ? '--idp or ' : ''}--all`);
  if (options.all && (names.length || options.idp)) throw new UsageError('give server names (and --idp) or --all, not both');
  const store = createTokenStore(config, options, new Logger({ level: 'error' }));
  const targets: AuthTarget[] = options.all
    ? await allTargets(config, store)
    : [...configuredTargets(config, names), ...(options.idp ? [identityProviderTarget(config)] : [])];
  let failures = 0;
  for (const target of targets) {
    const label = target.identityProvider ? `identity provider ${target.url}` : target.config ? target.name : target.url;
    const fetchFn = createOAuthFetch(undefined, { network: new NetworkPolicy([target.url, target.config?.oauth?.authServerMetadataUrl]) });
    try {
      const [tokens, storedClient, discovery] = await Promise.all([
        store.readTokens(target.url),
        store.readClient(target.url),
        store.readDiscovery(target.url),
      ]);
      const oauth = target.config?.oauth ?? target.identityProvider;
      const client = oauth?.clientId ? { client_id: oauth.clientId, client_secret: oauth.clientSecret } : storedClient;
      if (!tokens && !storedClient && !discovery) {
        if (!options.all) process.stdout.write(`${label}: not logged in; nothing to do\n`);
        await store.forget(target.url);
        continue;
      }
      const said: string[] = [];
      if (tokens) {
        const revoked: string[] = [];
        let reason: string | undefined;
        for (const [token, hint] of [
          [tokens.refresh_token, 'refresh_token'],
          [tokens.access_token, 'access_token'],
        ] as const) {
          if (!token) continue;
          const outcome = await revokeToken(discovery, client, token, hint, fetchFn);
          if (outcome.revoked) revoked.push(hint === 'refresh_token' ? 'the refresh token' : 'the access token');
          else reason ??= outcome.reason;
        }
        if (revoked.length) said.push(`revoked ${revoked.join(' and ')} at the authorization server`);
        if (reason) said.push(`${revoked.length ? 'not everything was revoked' : 'nothing was revoked'} (${reason})`);
      }
      await store.forget(target.url);
      said.push(`deleted the local login${tokens ? '' : ' (no tokens were stored)'}`);
      process.stdout.write(`${label}: ${said.join('; ')}\n`);
    } catch (error) {
      failures++;
      process.stderr.write(`gateway: ${label}: ${errorMessage(error)}\n`);
    }
  }
  if (options.all && !targets.length) process.stdout.write('No logins are stored.\n');
  return failures ? ExitCode.SomeServersNotReady : ExitCode.Ok;
}
