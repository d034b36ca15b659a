import { createLocalJWKSet, decodeJwt, errors, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import { IdTokenInvalidError } from '../../shared/errors.js';

/** Asymmetric signatures only: an ID token signed with `none` or a shared secret is refused (OpenID Connect Core §3.1.3.7 item 6-8). */
export const ID_TOKEN_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
/** Clock skew tolerated between the identity provider and this machine. */
export const CLOCK_TOLERANCE_S = 60;

/** What an ID token must say to be this sign-in's. */
export interface IdTokenExpectations {
  /** The identity provider's issuer identifier, exactly. */
  issuer: string;
  /** The gateway's client ID at the identity provider: the audience. */
  clientId: string;
  /** The `nonce` of the authorization request this token answers (absent for refreshed tokens, §12.2). */
  nonce?: string;
}

/**
 * Validates an ID token as OpenID Connect Core §3.1.3.7 asks of a client: its signature by a key
 * of the identity provider's JWKS (an allow-list of asymmetric algorithms), `iss` exactly the
 * issuer, `aud` containing the client ID (and `azp` the client ID when there are several), `exp`
 * in the future and `iat` present, and `nonce` the one the authorization request sent. A
 * failure is an IdTokenInvalidError saying which check failed. Returns the claims.
 * @see [OpenID Connect Core §3.1.3.7](https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation), [§12.2](https://openid.net/specs/openid-connect-core-1_0.html#RefreshTokenResponse)
 */
export async function verifyIdToken(
  idToken: string,
  jwks: JSONWebKeySet,
  expect: IdTokenExpectations,
  now = Date.now(),
): Promise<JWTPayload> {
  let claims: JWTPayload;
  try {
    ({ payload: claims } = await jwtVerify(idToken, createLocalJWKSet(jwks), {
      issuer: expect.issuer,
      audience: expect.clientId,
      algorithms: ID_TOKEN_ALGORITHMS,
      requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat'],
      currentDate: new Date(now),
      clockTolerance: CLOCK_TOLERANCE_S,
    }));
  } catch (error) {
    throw new IdTokenInvalidError(`the identity provider's ID token was refused: ${whyRefused(error, expect)}`, { cause: error });
  }
  const problem = claimProblem(claims, expect);
  if (problem) throw new IdTokenInvalidError(`the identity provider's ID token was refused: ${problem}`);
  return claims;
}

/**
 * The checks of §3.1.3.7 that jose does not make: `azp` with several audiences (items 4-5), and
 * the `nonce` (item 11). Undefined when the claims pass.
 */
export function claimProblem(claims: JWTPayload, expect: IdTokenExpectations): string | undefined {
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (audiences.length > 1 && claims.azp !== expect.clientId)
    return `it names several audiences and its azp is ${JSON.stringify(claims.azp)}, not this client (${expect.clientId})`;
  if (expect.nonce !== undefined && claims.nonce !== expect.nonce)
    return 'its nonce is not the one this sign-in sent (a replayed or injected token)';
  return undefined;
}

/** A jose failure in words that say which check failed (read from the error's class and claim, never its message). */
function whyRefused(error: unknown, expect: IdTokenExpectations): string {
  if (error instanceof errors.JWTExpired) return 'it has expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return `its issuer (iss) is ${JSON.stringify(error.payload.iss)}, not ${expect.issuer}`;
    if (error.claim === 'aud') return `its audience (aud) is ${JSON.stringify(error.payload.aud)}, not this client (${expect.clientId})`;
    return `its ${error.claim} claim is not valid (${error.reason})`;
  }
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return "its signature does not verify with the identity provider's published keys";
  if (error instanceof errors.JWKSNoMatchingKey) return "it is signed with a key the identity provider's JWKS does not hold";
  if (error instanceof errors.JOSEAlgNotAllowed)
    return `it is signed with an algorithm not allowed for ID tokens (allowed: ${ID_TOKEN_ALGORITHMS.join(', ')})`;
  if (error instanceof errors.JOSEError) return `it is not a valid signed JWT (${error.code})`;
  return error instanceof Error ? error.message : String(error);
}

/** When an ID token expires (ms since the epoch), read without validating it; undefined for one that is not a JWT or has no `exp`. */
export function idTokenExpiry(idToken: string): number | undefined {
  return idTokenTimes(idToken).expiresAt;
}

/** An ID token's `exp` and `iat` in ms since the epoch, read without validating it (either undefined when absent or not a JWT). */
export function idTokenTimes(idToken: string): { expiresAt?: number; issuedAt?: number } {
  try {
    const { exp, iat } = decodeJwt(idToken);
    return { expiresAt: typeof exp === 'number' ? exp * 1000 : undefined, issuedAt: typeof iat === 'number' ? iat * 1000 : undefined };
  } catch {
    return {};
  }
}
