import { BlockList, isIPv4, isIPv6 } from 'node:net';

/**
 * What kind of network an IP address is on, for the rule that a URL learned from a server
 * never leads to a request into a private network (SSRF): everything but `public` is refused
 * unless the server the user configured is itself in that class.
 * @see [RFC 6890, Special-Purpose IP Address Registries](https://www.rfc-editor.org/rfc/rfc6890.html)
 * @see [OWASP SSRF Prevention](https://cheatsheetseries.owasp.org/cheatsheets/Server_Side_Request_Forgery_Prevention_Cheat_Sheet.html)
 */
export type AddressClass =
  'public' | 'loopback' | 'private' | 'carrier-grade NAT' | 'link-local' | 'unique-local' | 'multicast' | 'unspecified' | 'reserved';

/** In the order checked; the first subnet that holds the address names its class. */
const SUBNETS: Array<[AddressClass, string, number, 'ipv4' | 'ipv6']> = [
  ['unspecified', '0.0.0.0', 8, 'ipv4'], // RFC 1122 §3.2.1.3 "this network"
  ['loopback', '127.0.0.0', 8, 'ipv4'], // RFC 1122 §3.2.1.3
  ['private', '10.0.0.0', 8, 'ipv4'], // RFC 1918 §3
  ['private', '172.16.0.0', 12, 'ipv4'],
  ['private', '192.168.0.0', 16, 'ipv4'],
  ['carrier-grade NAT', '100.64.0.0', 10, 'ipv4'], // RFC 6598
  ['link-local', '169.254.0.0', 16, 'ipv4'], // RFC 3927 (169.254.169.254: cloud metadata)
  ['reserved', '192.0.0.0', 24, 'ipv4'], // RFC 6890 IETF protocol assignments
  ['reserved', '198.18.0.0', 15, 'ipv4'], // RFC 2544 benchmarking
  ['multicast', '224.0.0.0', 4, 'ipv4'], // RFC 5771
  ['reserved', '240.0.0.0', 4, 'ipv4'], // RFC 1112 §4, with 255.255.255.255 (broadcast)
  ['unspecified', '::', 128, 'ipv6'], // RFC 4291 §2.5.2
  ['loopback', '::1', 128, 'ipv6'], // RFC 4291 §2.5.3
  ['link-local', 'fe80::', 10, 'ipv6'], // RFC 4291 §2.5.6
  ['unique-local', 'fec0::', 10, 'ipv6'], // RFC 3879 (deprecated site-local)
  ['unique-local', 'fc00::', 7, 'ipv6'], // RFC 4193 (fd00:ec2::254: the AWS metadata service)
  ['multicast', 'ff00::', 8, 'ipv6'], // RFC 4291 §2.7
];

const lists = SUBNETS.map(([kind, network, prefix, family]) => {
  const list = new BlockList();
  list.addSubnet(network, prefix, family);
  return { kind, list, family };
});

/**
 * The class of an IP address in any spelling: dotted IPv4, the integer forms a resolver
 * accepts (`2130706433`, `0x7f000001`, `017700000001`, `127.1`), IPv6 with or without
 * brackets, and IPv4 inside IPv6 (mapped `::ffff:7f00:1`, compatible `::127.0.0.1`, NAT64
 * `64:ff9b::a00:1`) classed as the IPv4 address they carry. Undefined when `text` is no address
 * (a host name).
 */
export function classifyAddress(text: string): AddressClass | undefined {
  const host = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const v4 = parseIPv4(host);
  if (v4) return classify(v4, 'ipv4');
  if (!isIPv6(host.replace(/%.*$/, ''))) return undefined;
  const v6 = host.replace(/%.*$/, '');
  const embedded = embeddedIPv4(v6);
  return embedded ? classify(embedded, 'ipv4') : classify(v6, 'ipv6');
}

function classify(address: string, family: 'ipv4' | 'ipv6'): AddressClass {
  for (const { kind, list, family: listFamily } of lists) {
    if (listFamily === family && list.check(address, family)) return kind;
  }
  return 'public';
}

/**
 * An IPv4 address in the forms inet_aton(3) and the WHATWG URL parser accept: one to four
 * parts, each decimal, hex (`0x`) or octal (leading `0`), the last filling the remaining bytes.
 * Returned dotted, or undefined.
 * @see [URL Standard, IPv4 parser](https://url.spec.whatwg.org/#concept-ipv4-parser)
 */
export function parseIPv4(text: string): string | undefined {
  if (isIPv4(text)) return text;
  const parts = text.replace(/\.$/, '').split('.');
  if (parts.length > 4 || parts.some((part) => part === '')) return undefined;
  const numbers: number[] = [];
  for (const part of parts) {
    let value: number;
    if (/^0x[0-9a-f]*$/i.test(part)) value = part.length === 2 ? 0 : parseInt(part.slice(2), 16);
    else if (/^0[0-7]+$/.test(part)) value = parseInt(part.slice(1), 8);
    else if (/^(0|[1-9][0-9]*)$/.test(part)) value = Number(part);
    else return undefined;
    numbers.push(value);
  }
  const last = numbers.pop()!;
  if (numbers.some((n) => n > 255) || last >= 256 ** (4 - numbers.length)) return undefined;
  const bytes = [...numbers];
  for (let i = 3 - numbers.length; i >= 0; i--) bytes.push(Math.floor(last / 256 ** i) % 256);
  return bytes.join('.');
}

/** The IPv4 address an IPv6 address carries (::ffff:0:0/96, ::/96, 64:ff9b::/96), dotted. */
function embeddedIPv4(v6: string): string | undefined {
  const words = expandIPv6(v6);
  if (!words) return undefined;
  const head = words.slice(0, 6);
  const mapped = head.slice(0, 5).every((w) => w === 0) && head[5] === 0xffff;
  const compatible = head.every((w) => w === 0) && (words[6] !== 0 || words[7] > 1);
  const nat64 = head[0] === 0x64 && head[1] === 0xff9b && head.slice(2).every((w) => w === 0);
  if (!mapped && !compatible && !nat64) return undefined;
  return [words[6] >> 8, words[6] & 0xff, words[7] >> 8, words[7] & 0xff].join('.');
}

/** An IPv6 address as its eight 16-bit words (a trailing dotted IPv4 counts as two). */
function expandIPv6(v6: string): number[] | undefined {
  let text = v6.toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const bytes = dotted[1].split('.').map(Number);
    text = `${text.slice(0, -dotted[1].length)}${((bytes[0] << 8) | bytes[1]).toString(16)}:${((bytes[2] << 8) | bytes[3]).toString(16)}`;
  }
  const [left, right] = text.split('::');
  const head = left ? left.split(':') : [];
  const tail = right !== undefined && right ? right.split(':') : [];
  const fill = right === undefined ? 0 : 8 - head.length - tail.length;
  const words = [...head, ...Array<string>(fill).fill('0'), ...tail].map((w) => parseInt(w, 16));
  return words.length === 8 && words.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffff) ? words : undefined;
}
