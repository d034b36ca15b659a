import type { GatewayConfig, IdentityProviderConfig } from '../config/types.js';
import type { TokenStore } from '../oauth/tokenStore.js';
import { identityProviderStatus } from './authIdentityProvider.js';
import { identityProviderTarget } from './authTargets.js';
import { fail, ok, unreachableReason, warn, type Finding } from './doctorChecks.js';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

/**
 * `gateway doctor` on `gateway.identityProvider`: the IdP's discovery document (reachable, its
 * `issuer` the one configured, the endpoints a sign-in and the token exchange need), and the
 * sign-in the store holds. Nothing is sent to the IdP but the discovery request.
 */
export async function checkIdentityProvider(config: GatewayConfig, store: TokenStore, env = process.env): Promise<Finding[]> {
  const target = identityProviderTarget(config);
  const idp = target.identityProvider!;
  const findings = idp.tokenEndpoint ? [ok(`token endpoint given: ${idp.tokenEndpoint} (no discovery)`)] : await checkDiscovery(idp);
  const status = await identityProviderStatus(store, target, env);
  if (status.givenIdToken) {
    const where = status.givenIdToken === 'config' ? 'gateway.identityProvider.idToken' : 'MCP_GATEWAY_ID_TOKEN';
    findings.push(ok(`uses the ID token given in ${where}; no sign-in of its own`));
  } else if (status.error) {
    findings.push(fail(`cannot read the sign-in: ${status.error}`, 'gateway auth logout --idp, then gateway auth login --idp'));
  } else if (!status.signedIn) {
    findings.push(warn('not signed in yet', 'the gateway signs in when a server needs it; or run: gateway auth login --idp'));
  } else if (status.expired && !status.refreshToken) {
    findings.push(warn(`the sign-in ended (${status.summary})`, 'gateway auth login --idp'));
  } else {
    findings.push(ok(`signed in${status.subject ? ` as ${status.email ?? status.subject}` : ''}: ${status.summary}`));
  }
  return findings;
}

/**
 * The discovery document, checked as the sign-in will use it.
 * @see [OpenID Connect Discovery 1.0 §4.3](https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderConfigurationValidation): `issuer` identical to the one configured
 */
async function checkDiscovery(idp: IdentityProviderConfig): Promise<Finding[]> {
  const { discoveryUrl } = await import('../oauth/identity/identityProvider.js');
  const url = discoveryUrl(idp.issuer);
  const fix =
    'check gateway.identityProvider.issuer (the IdP\'s issuer, as its admin console shows it), or give "tokenEndpoint" with an "idToken"';
  let metadata: Record<string, unknown>;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(10_000), redirect: 'manual', headers: { accept: 'application/json' } });
    if (!response.ok) return [fail(`${url} answered HTTP ${response.status}`, fix)];
    metadata = (await response.json()) as Record<string, unknown>;
  } catch (error) {
    return [fail(`cannot read ${url}: ${unreachableReason(error)}`, fix)];
  }
  if (metadata.issuer !== idp.issuer)
    return [fail(`the discovery document names the issuer "${String(metadata.issuer)}", not "${idp.issuer}"`, fix)];
  const missing = ['authorization_endpoint', 'token_endpoint', 'jwks_uri'].filter((field) => typeof metadata[field] !== 'string');
  if (missing.length)
    return [fail(`the discovery document has no ${missing.join(', ')}`, 'the IdP cannot be signed in to this way; ask its administrator')];
  const findings = [ok(`discovery: ${url}`)];
  const grants = metadata.grant_types_supported;
  if (Array.isArray(grants) && !grants.includes(TOKEN_EXCHANGE))
    findings.push(
      warn(
        'the IdP does not list the token exchange grant (RFC 8693) that ID-JAGs are obtained with',
        "ask the IdP's administrator to allow the gateway's client the token exchange for ID-JAGs (cross-app access)",
      ),
    );
  return findings;
}
