import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createPrivateKeyJwtAuth } from '@modelcontextprotocol/sdk/client/auth-extensions.js';
import type { OAuthServerConfig } from '../config/types.js';
import { registerSecret } from '../log/redact.js';
import type { ClientAssertionSigner } from './clientAuthentication.js';
import { OAuthFlowError } from '../shared/errors.js';

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
      throw new OAuthFlowError(
        'unsupported_key',
        `oauth.privateKey is a ${key.asymmetricKeyType} key; use an RSA, EC or Ed25519 key, or set oauth.privateKeyAlg`,
      );
  }
}

/** The PEM private key of the config (`privateKey`, usually `${ENV}`, or `privateKeyFile`), if any. */
export function configuredPrivateKey(oauth: OAuthServerConfig | undefined): string | undefined {
  if (oauth?.privateKey) return oauth.privateKey;
  if (!oauth?.privateKeyFile) return undefined;
  try {
    return readFileSync(oauth.privateKeyFile, 'utf8');
  } catch (error) {
    throw new OAuthFlowError(
      'private_key_unreadable',
      `cannot read oauth.privateKeyFile ${oauth.privateKeyFile}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/**
 * The signer of client assertions (`private_key_jwt`, RFC 7523 §2.2) when the config has a
 * private key and a client ID: the SDK's helper signs a short-lived assertion for each request.
 * @see [RFC 7523 §2.2](https://www.rfc-editor.org/rfc/rfc7523.html#section-2.2)
 */
export function privateKeyJwtSigner(oauth: OAuthServerConfig | undefined): ClientAssertionSigner | undefined {
  const pem = configuredPrivateKey(oauth);
  if (!pem || !oauth?.clientId) return undefined;
  registerSecret(pem);
  return createPrivateKeyJwtAuth({
    issuer: oauth.clientId,
    subject: oauth.clientId,
    privateKey: pem,
    alg: keyAlgorithm(pem, oauth.privateKeyAlg),
  }) as ClientAssertionSigner;
}
