import dns, { type LookupAddress, type LookupAllOptions } from 'node:dns';
import { classifyAddress, type AddressClass } from './addressClass.js';
import { UnsafeAuthorizationServerError } from '../shared/errors.js';

/** A resolver with dns.lookup's `all: true` shape (injectable: tests map names to addresses without DNS). */
export type ResolveFn = (
  hostname: string,
  options: LookupAllOptions,
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

/** A URL learned from a server leads to an address in a network the gateway does not send requests into. */
export class PrivateNetworkError extends UnsafeAuthorizationServerError {}

/**
 * Which networks the OAuth requests of one server may reach. Every URL the gateway learns
 * from a server (a `resource_metadata`, `authorization_servers`, metadata endpoints, redirects)
 * is fetched only if its host, as a literal in any spelling or as the addresses a name
 * resolves to, is a public address, or in a class the user's own configured URLs are in
 * (a server on 127.0.0.1 may have its authorization server on 127.0.0.1; one on 10.x, on a
 * private address). The addresses checked are the ones connected to: `lookup` is the socket
 * layer's resolver, so a name cannot resolve to a public address for the check and to a
 * private one for the connection (DNS rebinding).
 * @see [MCP Security Best Practices, Server-Side Request Forgery](https://modelcontextprotocol.io/specification/draft/basic/security_best_practices)
 * @see [OWASP SSRF Prevention](https://cheatsheetseries.owasp.org/cheatsheets/Server_Side_Request_Forgery_Prevention_Cheat_Sheet.html)
 */
export class NetworkPolicy {
  private allowed?: Promise<Set<AddressClass>>;

  constructor(
    /** The URLs the user configured (the server URL, `oauth.authServerMetadataUrl`). */
    private readonly configured: Array<string | undefined>,
    private readonly resolve: ResolveFn = dns.lookup as unknown as ResolveFn,
  ) {}

  /** The classes the configured URLs are in, besides `public`. */
  allowedClasses(): Promise<Set<AddressClass>> {
    this.allowed ??= (async () => {
      const classes = new Set<AddressClass>(['public']);
      for (const url of this.configured) {
        if (!url) continue;
        for (const kind of await this.hostClasses(new URL(url).hostname).catch(() => [])) classes.add(kind);
      }
      return classes;
    })();
    return this.allowed;
  }

  /** Throws PrivateNetworkError when `url`'s host (a literal, or every address its name resolves to) is refused. */
  async checkUrl(url: URL, what: string): Promise<void> {
    const literal = classifyAddress(url.hostname);
    if (literal) return this.checkAddress(bare(url.hostname), literal, url, what);
    const addresses = await this.lookupAll(url.hostname);
    for (const { address } of addresses) await this.checkAddress(address, classifyAddress(address) ?? 'public', url, what);
  }

  /** Throws PrivateNetworkError when `url`'s host is a literal address that is refused (names are checked at connect). */
  async checkLiteral(url: URL, what: string): Promise<void> {
    const literal = classifyAddress(url.hostname);
    if (literal) await this.checkAddress(bare(url.hostname), literal, url, what);
  }

  /**
   * The socket layer's `lookup` (net.connect's option): resolves once, refuses the connection
   * if any address is refused, else hands exactly the checked addresses to the socket.
   */
  readonly lookup = (hostname: string, options: { all?: boolean; family?: number }, callback: (...args: unknown[]) => void): void => {
    const url = new URL(`https://${hostname.includes(':') ? `[${hostname}]` : hostname}/`);
    this.lookupAll(hostname, options.family)
      .then(async (addresses) => {
        for (const { address } of addresses)
          await this.checkAddress(address, classifyAddress(address) ?? 'public', url, 'an OAuth request');
        if (options.all) callback(null, addresses);
        else callback(null, addresses[0].address, addresses[0].family);
      })
      .catch((error: unknown) => callback(error));
  };

  private lookupAll(hostname: string, family = 0): Promise<LookupAddress[]> {
    return new Promise((resolve, reject) =>
      this.resolve(hostname, { all: true, family }, (error, addresses) =>
        error
          ? reject(error)
          : addresses.length
            ? resolve(addresses)
            : reject(Object.assign(new Error(`${hostname} resolves to no address`), { code: 'ENOTFOUND' })),
      ),
    );
  }

  private async hostClasses(hostname: string): Promise<AddressClass[]> {
    const literal = classifyAddress(hostname);
    if (literal) return [literal];
    if (hostname === 'localhost' || hostname.endsWith('.localhost')) return ['loopback'];
    return (await this.lookupAll(hostname)).map(({ address }) => classifyAddress(address) ?? 'public');
  }

  private async checkAddress(address: string, kind: AddressClass, url: URL, what: string): Promise<void> {
    if ((await this.allowedClasses()).has(kind)) return;
    const where = address === bare(url.hostname) ? `is ${address}` : `resolves to ${address}`;
    throw new PrivateNetworkError(
      `refused ${what} at ${url.host}: it ${where}, a ${kind} address; a URL a server names may not lead into a ${kind} network ` +
        `unless the configured server is in one too (protection against server-side request forgery). ` +
        `If this authorization server is yours, configure the server by an address in that network or set oauth.authServerMetadataUrl`,
    );
  }
}

/** A URL's hostname without the brackets of an IPv6 literal. */
function bare(hostname: string): string {
  return hostname.replace(/^\[|\]$/g, '');
}
