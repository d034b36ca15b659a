import type { Logger } from '../log/logger.js';
import type { AuthContext } from './authContext.js';
import { CallbackPortInUseError, OAuthFlowError } from '../shared/errors.js';
import { startLoopbackListener, type LoopbackListener } from './loopbackListener.js';

/**
 * The loopback listener of a login (RFC 8252 §7.3): on the configured callback port (taken:
 * an error saying what to change); else on the port the stored registration names (taken:
 * the registration is dropped, to register again); else on an ephemeral port.
 * @see [RFC 8252 §7.3](https://www.rfc-editor.org/rfc/rfc8252.html#section-7.3)
 */
export async function startLoginListener(ctx: Pick<AuthContext, 'name' | 'url' | 'oauth' | 'store' | 'log'>): Promise<LoopbackListener> {
  const configured = ctx.oauth?.callbackPort;
  if (configured) return startOnConfiguredPort(configured, ctx.name);
  const stored = ctx.oauth?.clientId ? undefined : await ctx.store.readClient(ctx.url);
  const storedPort = stored?.redirect_uri ? Number(new URL(stored.redirect_uri).port) : 0;
  if (storedPort) {
    const listener = await startOnRegisteredPort(storedPort, ctx.log);
    if (listener) return listener;
    await ctx.store.delete(ctx.url, ['client']);
  }
  return startLoopbackListener(0);
}

async function startOnConfiguredPort(port: number, serverName: string): Promise<LoopbackListener> {
  try {
    return await startLoopbackListener(port);
  } catch (error) {
    if (!(error instanceof CallbackPortInUseError)) throw error;
    throw new OAuthFlowError(
      'port_in_use',
      `${error.message}; free it, or change mcpServers.${serverName}.oauth.callbackPort (the client registration must list the new port too)`,
      {
        cause: error,
      },
    );
  }
}

/** Undefined when the port is taken (said in the log). */
async function startOnRegisteredPort(port: number, log: Logger): Promise<LoopbackListener | undefined> {
  try {
    return await startLoopbackListener(port);
  } catch (error) {
    if (!(error instanceof CallbackPortInUseError)) throw error;
    log.info(`${error.message}; registering again with another port`);
    return undefined;
  }
}
