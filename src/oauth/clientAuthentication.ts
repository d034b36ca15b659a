import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';

/** How a client proves who it is at the token, device authorization and revocation endpoints. */
export type ClientAuthMethod = 'private_key_jwt' | 'client_secret_basic' | 'client_secret_post' | 'none';

/** The client as the request needs it: its id, its secret if confidential, the method its registration names. */
export interface AuthenticatingClient {
  client_id: string;
  client_secret?: string;
  /** From the registration response (RFC 7591 §2), when the gateway registered the client. */
  token_endpoint_auth_method?: string;
}

/** Adds a signed client assertion to a request (the SDK's `createPrivateKeyJwtAuth`). */
export type ClientAssertionSigner = NonNullable<OAuthClientProvider['addClientAuthentication']>;

/**
 * The one choice of client authentication for every request the gateway makes as a client
 * (code exchange, refresh, client credentials, device authorization and polling, revocation),
 * in the SDK's order, so that all of them authenticate alike:
 * 1. `private_key_jwt` whenever the config has a private key (RFC 7523 §2.2): the client was
 *    registered with its public key, and a secret is never sent beside it.
 * 2. The method the registration response named (RFC 7591 §2), if the server lists it (or
 *    lists nothing) and the client has what it needs (a secret for Basic and post).
 * 3. Nothing listed: `client_secret_basic` for a client with a secret, the default when the
 *    metadata omits the list (RFC 8414 §2), and the one RFC 6749 §2.3.1 requires every server
 *    to support; `none` for a public client.
 * 4. Else, for a client with a secret, Basic before post where listed; `none` where listed.
 * 5. Else what the client has: post for a secret (the server will say if it refuses), else `none`.
 * Basic sends `client_id:client_secret` raw in base64, as the SDK does, not form-encoded first
 * as RFC 6749 §2.3.1 asks: many servers do not decode it (see basicCredentials).
 * `supported` is the endpoint's list from the metadata: `token_endpoint_auth_methods_supported`,
 * or `revocation_endpoint_auth_methods_supported` for revocation (RFC 8414 §2).
 * @see [RFC 6749 §2.3.1](https://www.rfc-editor.org/rfc/rfc6749.html#section-2.3.1), [RFC 7523 §2.2](https://www.rfc-editor.org/rfc/rfc7523.html#section-2.2), [RFC 8414 §2](https://www.rfc-editor.org/rfc/rfc8414.html#section-2)
 */
export function chooseClientAuthMethod(
  client: AuthenticatingClient,
  supported: readonly string[] | undefined,
  signs = false,
): ClientAuthMethod {
  if (signs) return 'private_key_jwt';
  const listed = supported ?? [];
  const hasSecret = Boolean(client.client_secret);
  const registered = client.token_endpoint_auth_method;
  if (isUsable(registered, hasSecret) && (!listed.length || listed.includes(registered))) return registered;
  if (!listed.length) return hasSecret ? 'client_secret_basic' : 'none';
  if (hasSecret && listed.includes('client_secret_basic')) return 'client_secret_basic';
  if (hasSecret && listed.includes('client_secret_post')) return 'client_secret_post';
  if (listed.includes('none')) return 'none';
  return hasSecret ? 'client_secret_post' : 'none';
}

function isUsable(method: string | undefined, hasSecret: boolean): method is 'client_secret_basic' | 'client_secret_post' | 'none' {
  return method === 'none' || (hasSecret && (method === 'client_secret_basic' || method === 'client_secret_post'));
}

/**
 * Applies the chosen method to a request about to be sent: an `Authorization: Basic` header,
 * `client_id` (and `client_secret`) in the form body, or a signed assertion.
 * @see [RFC 6749 §2.3.1](https://www.rfc-editor.org/rfc/rfc6749.html#section-2.3.1), [§2.1 (public clients)](https://www.rfc-editor.org/rfc/rfc6749.html#section-2.1), [RFC 7523 §2.2](https://www.rfc-editor.org/rfc/rfc7523.html#section-2.2)
 */
export async function applyClientAuthentication(
  method: ClientAuthMethod,
  client: AuthenticatingClient,
  request: { headers: Headers; body: URLSearchParams; url: string | URL; metadata?: Parameters<ClientAssertionSigner>[3] },
  sign?: ClientAssertionSigner,
): Promise<void> {
  switch (method) {
    case 'private_key_jwt':
      if (!sign) throw new Error('private_key_jwt needs the private key of the oauth block');
      return sign(request.headers, request.body, request.url, request.metadata);
    case 'client_secret_basic':
      request.headers.set('authorization', basicCredentials(client.client_id, client.client_secret ?? ''));
      return;
    case 'client_secret_post':
      request.body.set('client_id', client.client_id);
      if (client.client_secret) request.body.set('client_secret', client.client_secret);
      return;
    case 'none':
      request.body.set('client_id', client.client_id);
  }
}

/**
 * Client authentication in the shape the SDK takes (`addClientAuthentication`), for the token
 * requests the SDK sends: the endpoint's list is the metadata's `token_endpoint_auth_methods_supported`.
 * `client` is read when the request is made (the registration may be new by then).
 */
export function clientAuthenticator(
  client: () => Promise<AuthenticatingClient | undefined> | AuthenticatingClient | undefined,
  sign?: ClientAssertionSigner,
): ClientAssertionSigner {
  return async (headers, body, url, metadata) => {
    const current = await client();
    if (!current) return; // The SDK sends no token request without client information.
    const method = chooseClientAuthMethod(current, metadata?.token_endpoint_auth_methods_supported, Boolean(sign));
    await applyClientAuthentication(method, current, { headers, body, url, metadata }, sign);
  };
}

/**
 * The `Authorization: Basic` value for client credentials, the only place the gateway makes
 * one: `client_id:client_secret` as they are, base64 (UTF-8), byte for byte what the SDK sends
 * (its `applyBasicAuth`) for any ASCII id and secret.
 *
 * RFC 6749 §2.3.1 says to form-encode each part first, but the SDK does not, and many deployed
 * authorization servers do not URL-decode Basic credentials: a secret that is itself base64,
 * with `+`, `/` or `=`, would reach them as `%2B`, `%2F`, `%3D` and be refused. Interoperating
 * with those servers wins over the letter of the RFC here; an id or secret with `%` or a
 * space, which a decoding server would read differently, is rare, and post (or a key) serves
 * such a client, as it does one whose id holds a `:` (RFC 7617 §2: Basic cannot carry it raw).
 * @see [RFC 6749 §2.3.1](https://www.rfc-editor.org/rfc/rfc6749.html#section-2.3.1), [RFC 7617 §2](https://www.rfc-editor.org/rfc/rfc7617.html#section-2)
 */
export function basicCredentials(clientId: string, clientSecret: string): string {
  return `Basic ${Buffer.from(`${clientId}:${clientSecret}`, 'utf8').toString('base64')}`;
}
