import type { HttpServerConfig } from '../config/types.js';
import type { Logger } from '../log/logger.js';
import type { ServerAuth } from '../oauth/serverAuth.js';
import type { AuthSettings } from './downstreamRuntime.js';
import type { DownstreamState } from './downstreamState.js';
import type * as HttpTransportModule from './httpTransport.js';

/**
 * The OAuth side of one HTTP downstream: its ServerAuth (made on first use, with the HTTP
 * code loaded only then), tokens picked up before each connect, and an interactive login
 * reported as `needs-auth` states (with the URL once there is one).
 */
export class DownstreamLogin {
  auth?: ServerAuth;

  constructor(
    private readonly config: HttpServerConfig,
    private readonly log: Logger,
    private readonly settings: AuthSettings,
    private readonly http: () => Promise<typeof HttpTransportModule>,
  ) {}

  async ensure(): Promise<ServerAuth> {
    const { settings, config } = this;
    const identity = await settings.identity?.();
    this.auth ??= (await this.http()).createServerAuth({
      name: config.name,
      url: config.url,
      oauth: config.oauth,
      store: settings.store,
      log: this.log,
      noBrowser: settings.noBrowser,
      headless: settings.headless,
      callbackTimeoutMs: settings.callbackTimeoutMs,
      presentLoginUrl: (url) => settings.presentLoginUrl?.(config.name, url) ?? false,
      identity,
    });
    return this.auth;
  }

  /** Before each (re)connect: logins from earlier runs and other processes are picked up, and refreshed if due. */
  async prepare(): Promise<void> {
    const auth = await this.ensure();
    await auth.reload();
    await auth.ensureFresh();
  }

  /** Logs in (a browser, the client's URL elicitation, or a printed URL), reporting it as it goes. */
  async logIn(setState: (state: DownstreamState) => void, why = ''): Promise<void> {
    const auth = await this.ensure();
    const reason = `${why}waiting for the login to finish in the browser`;
    setState({ status: 'needs-auth', reason, loginInProgress: true });
    const onUrl = (url: string) => setState({ status: 'needs-auth', reason, authorizationUrl: url, loginInProgress: true });
    auth.on('login-url', onUrl);
    try {
      await auth.login();
    } finally {
      auth.off('login-url', onUrl);
    }
  }

  /**
   * A login for more permissions (a step-up) while the server stays ready: its other calls go
   * on, and the one refused waits for this login. The URL is shown as for any login.
   */
  async stepUp(): Promise<void> {
    const auth = await this.ensure();
    this.log.warn('a call needs more permissions (insufficient_scope); logging in to grant them, the call waits');
    await auth.login();
  }
}
