import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fetchToken, type OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import { createPrivateKeyJwtAuth } from '@modelcontextprotocol/sdk/client/auth-extensions.js';
import type { OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { OAuthServerConfig } from '../config/types.js';
import { registerSecret } from '../log/redact.js';
import { OAuthFlowError } from './oauthErrors.js';

type AddClientAuthentication = NonNullable<Parameters<typeof fetchToken>[0]['addClientAuthentication']>;

/** The JWT algorithm for a private key: RS256 for RSA, ES256/384/512 by curve, EdDSA for Ed25519; or as configured. */
export function keyAlgorithm(pem: string, configured?: string): string {
  if (configured) return configured;
  const key = createPrivateKey(pem);
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return 'RS256';
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      return curve === 'secp384r1' ? 'ES384' : curve === 'secp521r1' ? 'ES512' : 'ES256';
    }
    case 'ed25519':
      return 'EdDSA';
    default:
      throw new OAuthFlowError('unsupported_key', `oauth.privateKey is a ${key.asymmetricKeyType} key; use an RSA, EC or Ed25519 key, or set oauth.privateKeyAlg`);
  }
}

/** The PEM private key of the config (`privateKey`, usually `${ENV}`, or `privateKeyFile`), if any. */
export function configuredPrivateKey(oauth: OAuthServerConfig | undefined): string | undefined {
  if (oauth?.privateKey) return oauth.privateKey;
  if (!oauth?.privateKeyFile) return undefined;
  try {
    return readFileSync(oauth.privateKeyFile, 'utf8');
  } catch (error) {
    throw new OAuthFlowError('private_key_unreadable', `cannot read oauth.privateKeyFile ${oauth.privateKeyFile}: ${(error as Error).message}`);
  }
}

/**
 * Client authentication with a signed JWT (`private_key_jwt`, RFC 7523) when the config has a
 * private key: the SDK's helper signs a short-lived assertion for each token request.
 */
export function privateKeyJwtAuthentication(oauth: OAuthServerConfig | undefined): AddClientAuthentication | undefined {
  const pem = configuredPrivateKey(oauth);
  if (!pem || !oauth?.clientId) return undefined;
  registerSecret(pem);
  return createPrivateKeyJwtAuth({ issuer: oauth.clientId, subject: oauth.clientId, privateKey: pem, alg: keyAlgorithm(pem, oauth.privateKeyAlg) }) as AddClientAuthentication;
}

/**
 * A token for a machine (`oauth.grant: "client_credentials"`): no browser, no user. The client
 * authenticates with its secret (basic or post, as the server lists) or a signed JWT.
 */
export async function fetchClientCredentialsToken(
  discovery: OAuthDiscoveryState,
  oauth: OAuthServerConfig,
  scope: string | undefined,
  resource: string | undefined,
  fetchFn: FetchLike,
): Promise<OAuthTokens> {
  const addClientAuthentication = privateKeyJwtAuthentication(oauth);
  const provider = {
    clientMetadata: { redirect_uris: [], scope },
    clientInformation: () => ({ client_id: oauth.clientId!, ...(oauth.clientSecret && !addClientAuthentication ? { client_secret: oauth.clientSecret } : {}) }),
    prepareTokenRequest: (requested?: string) => new URLSearchParams({ grant_type: 'client_credentials', ...(requested ? { scope: requested } : {}) }),
    addClientAuthentication,
  };
  return fetchToken(provider as unknown as Parameters<typeof fetchToken>[0], discovery.authorizationServerUrl, {
    metadata: discovery.authorizationServerMetadata,
    resource: resource ? new URL(resource) : undefined,
    fetchFn,
  });
}
