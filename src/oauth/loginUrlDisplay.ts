import type { Logger } from '../log/logger.js';
import type { NetworkPolicy } from './networkPolicy.js';
import { showAuthorizationUrl } from './openBrowser.js';

/** Where and how one server's login URL is shown. */
export interface LoginUrlDisplay {
  name: string;
  noBrowser?: boolean;
  env?: NodeJS.ProcessEnv;
  loginCommand?: string;
  /** The MCP client's URL elicitation: true when it took the URL. */
  presentLoginUrl?: (url: string) => boolean;
  network: NetworkPolicy;
  log: Logger;
  /** The server's 'login-url' event. */
  emit(url: string): void;
}

/** The 'login-url' event, then the MCP client's elicitation if it takes the URL, else a browser here (or the URL printed). */
export async function showLoginUrl(authorizationUrl: string, display: LoginUrlDisplay): Promise<void> {
  const { name, noBrowser, env, log, loginCommand } = display;
  // The authorization endpoint is named by the authorization server: the browser is not sent into a private network either.
  await display.network.checkUrl(new URL(authorizationUrl), 'the authorization endpoint');
  display.emit(authorizationUrl);
  if (display.presentLoginUrl?.(authorizationUrl)) {
    log.info(`asked the MCP client to open the login page for ${name}; waiting for the login to finish…`);
  } else {
    await showAuthorizationUrl(authorizationUrl, name, log, { noBrowser, env, loginCommand });
  }
}

/** Why a headless gateway opens no browser, and how to bring a login to it. */
export function headlessLoginMessage(name: string, command = `gateway auth login ${name}`): string {
  return (
    `${name} needs a login and this gateway runs headless (--headless), so no browser is opened here; ` +
    `run \`${command}\` on a machine with a browser, then \`gateway auth export ${name} --move --out FILE\` there ` +
    `and \`gateway auth import FILE\` here (or copy the token store directory), and restart`
  );
}
