import { auth } from '@modelcontextprotocol/sdk/client/auth.js';
import { InvalidGrantError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { registerSecret } from '../log/redact.js';
import type { AuthContext } from './authContext.js';
import type { LaunchLog } from './browserLaunches.js';
import { startLoginListener } from './loginListener.js';
import type { CallbackExpectations, LoopbackListener, ReceivedCallback } from './loopbackListener.js';
import { OAuthFlowError } from '../shared/errors.js';
import { readPastedCode, type PasteReader } from './pastedCode.js';
import { sanitize } from './sanitizeError.js';
import { ignoreFailure } from '../shared/bestEffort.js';

/** What an interactive login needs beyond the server's AuthContext. */
export interface LoginOptions {
  readonly launches: LaunchLog;
  /** Aborted when the server is closed: the login ends, and does not count as a failed one. */
  readonly closing: AbortSignal;
  readonly callbackTimeoutMs?: number;
  /** Shows the authorization URL to the user (an MCP client's elicitation, a browser, or printed). */
  show(authorizationUrl: string): Promise<void>;
}

/** A code from the browser's redirect to the loopback listener, or pasted by the user. */
type ArrivedCode = (ReceivedCallback & { pasted: false }) | Awaited<ReturnType<typeof readPastedCode>>;

/**
 * The authorization code grant with PKCE (RFC 6749 §4.1, RFC 7636), run by the SDK's `auth()`
 * with a GatewayOAuthProvider: the loopback listener, the authorization URL shown to the user,
 * the code (from the browser, or pasted), the code exchange. Each launch is recorded in the
 * LaunchLog, and its outcome: completed, or failed (not when the server was closed).
 * @see [RFC 6749 §4.1](https://www.rfc-editor.org/rfc/rfc6749.html#section-4.1), [RFC 8252 §7.3](https://www.rfc-editor.org/rfc/rfc8252.html#section-7.3)
 */
export async function interactiveLogin(ctx: AuthContext, login: LoginOptions, paste?: PasteReader): Promise<void> {
  const listener = await startLoginListener(ctx);
  let launched = false;
  ctx.steps.reset();
  try {
    ctx.provider.resetFlow(listener.redirectUri);
    const metadataUrl = ctx.resourceMetadataUrl ? new URL(ctx.resourceMetadataUrl) : undefined;
    const expect = await requestAuthorization(ctx, metadataUrl, login.callbackTimeoutMs);
    if (!expect) return; // The SDK found the client authorized already.
    await login.launches.launched(ctx.log);
    launched = true;
    ctx.steps.enter('authorization', expect.authorizationUrl);
    await login.show(expect.authorizationUrl);
    await exchangeCode(ctx, metadataUrl, nextCode(ctx.name, listener, expect, login.closing, paste), paste);
    await login.launches.completed(ctx.log); // Undone if the server refuses the token (ServerAuth.tokenRefused).
    ctx.log.info(`logged in to ${ctx.name}`);
  } catch (error) {
    if (launched && !login.closing.aborted) await login.launches.failed(ctx.log);
    throw ctx.steps.explain(ctx.name, error);
  } finally {
    ctx.provider.endFlow();
    await listener.close();
  }
}

/**
 * The SDK's `auth()` up to the authorization request: discovery, registration, PKCE, the
 * authorization URL. Returns what the callback must match (state, and the issuer when the
 * server promises `iss`, RFC 9207 §2.4), or undefined when no login is needed after all.
 * @see [RFC 9207 §2.4](https://www.rfc-editor.org/rfc/rfc9207.html#section-2.4)
 */
async function requestAuthorization(
  ctx: AuthContext,
  resourceMetadataUrl: URL | undefined,
  timeoutMs: number | undefined,
): Promise<(CallbackExpectations & { authorizationUrl: string }) | undefined> {
  const discovery = await ctx.discovery();
  const result = await auth(ctx.provider, { serverUrl: ctx.url, resourceMetadataUrl, scope: ctx.scope(discovery), fetchFn: ctx.fetchFn });
  if (result === 'AUTHORIZED') return undefined;
  const authorizationUrl = ctx.provider.authorizationUrl;
  const state = ctx.provider.expectedState;
  if (!authorizationUrl || !state) throw new Error('the SDK did not produce an authorization URL');
  const metadata = (await ctx.provider.discoveryState())?.authorizationServerMetadata as
    (Record<string, unknown> & { issuer: string }) | undefined;
  const issuer = metadata?.authorization_response_iss_parameter_supported === true ? metadata.issuer : undefined;
  return { authorizationUrl: authorizationUrl.href, serverName: ctx.name, state, issuer, expectedIssuer: metadata?.issuer, timeoutMs };
}

/**
 * The next code of this login: the browser's redirect to the listener, or (with `paste`) an
 * address the user pastes (another machine's loopback), whichever comes first; a closed server
 * ends the wait. The browser's wait is one for the whole login; each call reads a new paste.
 */
function nextCode(
  serverName: string,
  listener: LoopbackListener,
  expect: CallbackExpectations,
  closing: AbortSignal,
  paste?: PasteReader,
): () => Promise<ArrivedCode> {
  const fromBrowser = listener.waitForCode(expect).then((callback) => ({ ...callback, pasted: false as const }));
  ignoreFailure(fromBrowser); // Settled through the race below, or dropped when a paste wins.
  const closed = new Promise<never>((_, reject) => {
    const stop = () => reject(new OAuthFlowError('closed', `the login for ${serverName} was ended: the server was closed`));
    if (closing.aborted) stop();
    else closing.addEventListener('abort', stop, { once: true });
  });
  ignoreFailure(closed); // Settled through the race below.
  const pasted = () => (paste ? readPastedCode(paste, expect) : new Promise<never>(() => {}));
  return () => Promise.race([fromBrowser, pasted(), closed]);
}

/**
 * The code exchange, by the SDK's `auth()`; the browser is answered with its outcome. A pasted
 * code the server refuses (`invalid_grant`: used already, or expired) is said, and the user may
 * paste this login's address again.
 */
async function exchangeCode(
  ctx: AuthContext,
  resourceMetadataUrl: URL | undefined,
  next: () => Promise<ArrivedCode>,
  paste?: PasteReader,
): Promise<void> {
  let received = await next();
  for (;;) {
    registerSecret(received.code);
    try {
      await auth(ctx.provider, { serverUrl: ctx.url, authorizationCode: received.code, resourceMetadataUrl, fetchFn: ctx.fetchFn });
      break;
    } catch (error) {
      if (received.pasted && error instanceof InvalidGrantError) {
        await paste!.say(
          `The authorization server refused that code (${sanitize(error).message || 'invalid_grant'}): it was used already or has expired. Approve again in the browser with the URL above, then paste the new address.`,
        );
        received = await next();
        continue;
      }
      await received.finish({ ok: false, error: 'token_exchange_failed', description: sanitize(error).message });
      throw error;
    }
  }
  await received.finish({ ok: true });
}
