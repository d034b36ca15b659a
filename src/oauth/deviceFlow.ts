import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { OAuthTokensSchema, type OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { redact, registerSecret } from '../log/redact.js';
import { sleep } from './backoff.js';
import { OAuthFlowError, TransientAuthError, UnsafeAuthorizationServerError } from '../shared/errors.js';
import { checkEndpointUrl } from './urlRules.js';

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

export interface DeviceFlowOptions {
  deviceEndpoint: string;
  tokenEndpoint: string;
  client: { client_id: string };
  scope?: string;
  resource?: string;
  fetchFn: FetchLike;
  /** Shows the user where to go and what to enter. */
  show: (text: string) => void;
  serverName: string;
  /** Client authentication for both requests (see chooseClientAuthMethod). */
  authenticate: (headers: Headers, params: URLSearchParams, url: string) => Promise<void> | void;
}

interface DeviceAuthorization {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete?: string;
  expires_in: number;
  interval?: number;
}

/**
 * The OAuth 2.0 device authorization grant (RFC 8628): asks for a device and user code,
 * shows the user where to enter it, then polls the token endpoint, honouring `interval`,
 * `authorization_pending`, `slow_down` (+5 s each time), `access_denied` and `expired_token`.
 */
export async function runDeviceFlow(options: DeviceFlowOptions): Promise<OAuthTokens> {
  const { fetchFn, client } = options;
  const form = async (url: string, fields: Record<string, string | undefined>) => {
    const body = new URLSearchParams();
    for (const [key, value] of Object.entries(fields)) if (value !== undefined) body.set(key, value);
    const headers = new Headers({ 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' });
    await options.authenticate(headers, body, url);
    return { method: 'POST', headers, body };
  };
  const started = await fetchFn(
    options.deviceEndpoint,
    await form(options.deviceEndpoint, { client_id: client.client_id, scope: options.scope, resource: options.resource }),
  );
  const authorization = (await started.json().catch(() => ({}))) as Partial<DeviceAuthorization> & {
    error?: string;
    error_description?: string;
  };
  if (!started.ok) {
    throw new OAuthFlowError(
      authorization.error ?? 'device_authorization_failed',
      `the device authorization request failed: HTTP ${started.status} ${redact(authorization.error ?? '')} ${redact(authorization.error_description ?? '')}`.trim(),
    );
  }
  if (
    typeof authorization.device_code !== 'string' ||
    typeof authorization.user_code !== 'string' ||
    typeof authorization.verification_uri !== 'string'
  ) {
    throw new UnsafeAuthorizationServerError('the device authorization response lacks device_code, user_code or verification_uri');
  }
  registerSecret(authorization.device_code);
  checkEndpointUrl(authorization.verification_uri, 'the verification_uri');
  let interval = Math.max(1, Number(authorization.interval ?? 5));
  const deadline = Date.now() + Math.max(1, Number(authorization.expires_in ?? 600)) * 1000;
  options.show(
    `To log in to ${options.serverName}, open ${authorization.verification_uri} on any device and enter the code ${authorization.user_code}` +
      (authorization.verification_uri_complete ? `\n(or open ${authorization.verification_uri_complete})` : '') +
      `\nWaiting for you to approve (the code is valid for ${Math.round((deadline - Date.now()) / 60_000) || 1} min)…`,
  );
  for (;;) {
    await sleep(interval * 1000);
    if (Date.now() > deadline)
      throw new OAuthFlowError('expired_token', 'the code expired before it was approved; run the command again for a new one');
    let response: Response;
    try {
      response = await fetchFn(
        options.tokenEndpoint,
        await form(options.tokenEndpoint, {
          grant_type: DEVICE_CODE_GRANT,
          device_code: authorization.device_code,
          client_id: client.client_id,
          resource: options.resource,
        }),
      );
    } catch (error) {
      if (error instanceof TransientAuthError) continue; // A network blip: poll again at the next interval.
      throw error;
    }
    const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (response.ok) return OAuthTokensSchema.parse(body);
    switch (body.error) {
      case 'authorization_pending':
        continue;
      case 'slow_down':
        interval += 5;
        continue;
      case 'access_denied':
        throw new OAuthFlowError('access_denied', 'the login was denied at the verification page');
      case 'expired_token':
        throw new OAuthFlowError('expired_token', 'the code expired before it was approved; run the command again for a new one');
      default:
        if (response.status >= 500) continue;
        throw new OAuthFlowError(
          String(body.error ?? 'device_flow_failed'),
          `the token endpoint answered HTTP ${response.status} ${redact(String(body.error ?? ''))} ${redact(String(body.error_description ?? ''))}`.trim(),
        );
    }
  }
}
