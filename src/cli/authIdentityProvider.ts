import { decodeJwt } from 'jose';
import type { GatewayConfig } from '../config/types.js';
import { errorMessage } from '../log/logger.js';
import type { TokenStore } from '../oauth/tokenStore.js';
import { identityProviderTarget, type AuthTarget } from './authTargets.js';
import { pasteFromStdin } from './authLoginCommand.js';
import { describeExpiry } from './describeLogin.js';
import { ExitCode } from './exitCodes.js';
import { createLogger, createTokenStore, type RuntimeOptions } from './gatewayRuntime.js';

/** The identity provider's sign-in as `auth status` shows it. Never a token. */
export interface IdentityProviderStatus {
  issuer: string;
  clientId: string;
  signedIn: boolean;
  /** Who: the ID token's `sub`, and its `email` when it has one. */
  subject?: string;
  email?: string;
  /** When the sign-in's ID token (or its access token, whichever is first) expires. */
  expiresAt?: string;
  expired?: boolean;
  refreshToken: boolean;
  /** An ID token the host hands over instead of a sign-in: where it comes from. */
  givenIdToken?: 'config' | 'MCP_GATEWAY_ID_TOKEN';
  storedIn: string;
  summary?: string;
  error?: string;
}

/**
 * `gateway auth login --idp`: a fresh sign-in at the identity provider now (browser, `--paste`
 * or `--device`), validated and stored like the one the gateway starts itself; every server
 * that accepts ID-JAGs is then authorized with no further browser.
 */
export async function identityProviderLogin(
  config: GatewayConfig,
  options: RuntimeOptions & { paste?: boolean; device?: boolean },
): Promise<number> {
  const target = identityProviderTarget(config);
  const log = createLogger(config, { ...options, logLevel: options.logLevel ?? 'info' }).child(target.name);
  const store = createTokenStore(config, options, log);
  const { IdentityProvider } = await import('../oauth/identity/identityProvider.js');
  const paste = options.paste ? pasteFromStdin() : undefined;
  const idp = new IdentityProvider(target.identityProvider!, {
    store,
    log,
    noBrowser: options.noBrowser,
    callbackTimeoutMs: config.gateway.callbackTimeout,
    presentLoginUrl: paste
      ? (url) => (
          process.stderr.write(
            `\nOpen this URL in a browser on any machine and sign in:\n\n  ${url}\n\nThen paste the address the browser ends on here.\n`,
          ),
          true
        )
      : undefined,
  });
  process.stderr.write(`Signing in to the identity provider ${target.url}…\n`);
  try {
    if (options.device) await idp.signInOnDevice((text) => process.stderr.write(`${text}\n`));
    else await idp.signIn({ force: true, paste: paste?.reader });
  } catch (error) {
    process.stderr.write(`gateway: the identity provider sign-in failed: ${errorMessage(error)}\n`);
    return ExitCode.SomeServersNotReady;
  } finally {
    paste?.close();
    await idp.close();
  }
  const status = await identityProviderStatus(store, target);
  process.stdout.write(
    `Signed in to the identity provider${status.subject ? ` as ${status.email ?? status.subject}` : ''} (${status.summary}).\nStored in ${status.storedIn}\n`,
  );
  return ExitCode.Ok;
}

/** What the store holds for the identity provider's sign-in. */
export async function identityProviderStatus(store: TokenStore, target: AuthTarget, env = process.env): Promise<IdentityProviderStatus> {
  const config = target.identityProvider!;
  const status: IdentityProviderStatus = {
    issuer: config.issuer,
    clientId: config.clientId,
    signedIn: false,
    refreshToken: false,
    storedIn: store.location(target.url),
    ...(config.idToken
      ? { givenIdToken: 'config' as const }
      : env.MCP_GATEWAY_ID_TOKEN
        ? { givenIdToken: 'MCP_GATEWAY_ID_TOKEN' as const }
        : {}),
  };
  try {
    const tokens = await store.readTokens(target.url);
    if (!tokens) return status;
    const claims = tokens.id_token ? decodeJwt(tokens.id_token) : {};
    Object.assign(status, {
      signedIn: true,
      refreshToken: Boolean(tokens.refresh_token),
      ...(typeof claims.sub === 'string' ? { subject: claims.sub } : {}),
      ...(typeof claims.email === 'string' ? { email: claims.email } : {}),
      summary: describeExpiry(tokens).replace('the access token', 'the sign-in'),
    });
    if (tokens.expires_at !== undefined)
      Object.assign(status, { expiresAt: new Date(tokens.expires_at).toISOString(), expired: tokens.expires_at <= Date.now() });
  } catch (error) {
    status.error = errorMessage(error);
  }
  return status;
}

/** The identity provider's block of `auth status`, for people. */
export function formatIdentityProviderStatus(status: IdentityProviderStatus): string[] {
  const mark = status.error ? '✗' : status.signedIn || status.givenIdToken ? '✓' : '·';
  const lines = [`${mark} identity provider  ${status.issuer}  (client_id ${status.clientId})`];
  if (status.givenIdToken)
    lines.push(
      `    uses the ID token given in ${status.givenIdToken === 'config' ? 'gateway.identityProvider.idToken' : 'MCP_GATEWAY_ID_TOKEN'}; no sign-in of its own`,
    );
  if (status.error) lines.push(`    cannot read the sign-in: ${status.error}`);
  else if (!status.signedIn)
    lines.push('    not signed in (the gateway signs in when a server needs it; or run: gateway auth login --idp)');
  else {
    const renew = status.refreshToken
      ? 'a refresh token renews it'
      : 'no refresh token: it ends then (sign in again with gateway auth login --idp)';
    lines.push(`    signed in${status.subject ? ` as ${status.email ?? status.subject}` : ''}: ${status.summary}; ${renew}`);
  }
  lines.push(`    stored in: ${status.storedIn}`);
  return lines;
}
