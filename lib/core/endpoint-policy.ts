import { BlockList, isIP } from 'node:net';

/**
 * Which factory endpoints may be registered, and which addresses may be connected to. Public
 * http(s) hosts are fine; loopback, private, link-local (including the 169.254.169.254 metadata
 * service), unique-local and unspecified addresses are refused unless listed in `allowed` (host
 * names, IPs or CIDRs), so a registered "factory" cannot be used to reach the orchestrator's own
 * network. IPv6 addresses that carry an IPv4 address (IPv4-mapped and -translated, IPv4-compatible,
 * NAT64 64:ff9b::/96, 6to4 2002::/16, Teredo) are judged by the IPv4 address they carry.
 *
 * Registration checks host names as written (it does no DNS); the factory client checks every
 * address a name resolves to before it connects (`connectRefusal`).
 */
const BLOCKED = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
] as const) {
  BLOCKED.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  // Local-use NAT64 (RFC 8215): translated by the operator's own gateway into its own network.
  ['64:ff9b:1::', 48],
] as const) {
  BLOCKED.addSubnet(net, prefix, 'ipv6');
}
const BLOCKED_NAMES = [/^localhost$/i, /\.localhost$/i, /^metadata\.google\.internal$/i, /^instance-data$/i];

/** Why `endpoint` may not be registered, or undefined when it may. */
export function endpointRefusal(endpoint: string, allowed: readonly string[] = []): string | undefined {
  const url = new URL(endpoint);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0) return addressRefusal(host, allowed);
  if (isAllowed(host, allowed)) return undefined;
  return BLOCKED_NAMES.some((name) => name.test(host)) ? `host '${host}' is a local name` : undefined;
}

/**
 * Why a connection to the IP address `address` is refused, or undefined when it may be made: the
 * address itself, and for IPv6 any IPv4 address it carries, is checked against the blocked ranges
 * unless `allowed` lists it (as an address or in a CIDR).
 */
export function addressRefusal(address: string, allowed: readonly string[] = []): string | undefined {
  const ip = address.replace(/%.*$/, '');
  const family = isIP(ip);
  if (family === 0) return `'${address}' is not an IP address`;
  if (isAllowed(ip, allowed)) return undefined;
  // An address carrying IPv4 addresses is what those addresses are (an allowed one included).
  const embedded = family === 6 ? embeddedIPv4(ip) : [];
  for (const v4 of embedded) {
    if (addressRefusal(v4, allowed) !== undefined) {
      return `address ${ip} carries the IPv4 address ${v4}, which is loopback, private, link-local or metadata`;
    }
  }
  if (embedded.length > 0) return undefined;
  return BLOCKED.check(ip, family === 4 ? 'ipv4' : 'ipv6')
    ? `address ${ip} is loopback, private, link-local or metadata`
    : undefined;
}

/**
 * Why the orchestrator may not connect to `address`, which the host `host` (as written in the
 * endpoint) resolved to; undefined when it may. An allow-list entry matches the host as written or
 * the address.
 */
export function connectRefusal(
  host: string,
  address: string,
  allowed: readonly string[] = [],
): string | undefined {
  const name = host.replace(/^\[|\]$/g, '');
  if (isAllowed(name, allowed)) return undefined;
  const refusal = addressRefusal(address, allowed);
  if (refusal === undefined || isIP(name) !== 0) return refusal;
  return `host '${name}' resolves to ${address}: ${refusal}`;
}

/**
 * The IPv4 addresses an IPv6 address carries: IPv4-mapped (::ffff:0:0/96), IPv4-translated
 * (::ffff:0:0:0/96), IPv4-compatible (::/96), NAT64 (64:ff9b::/96) in its last 32 bits; 6to4
 * (2002::/16) in bits 16-47; Teredo (2001::/32) its server in bits 32-63 and its client, inverted,
 * in the last 32 bits.
 */
export function embeddedIPv4(address: string): string[] {
  const g = ipv6Groups(address);
  if (g === undefined) return [];
  const v4 = (high: number, low: number) => `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
  const last = v4(g[6] as number, g[7] as number);
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (zeros(0, 5) && g[5] === 0xffff) return [last];
  // IPv4-compatible, but not :: and ::1, which are addresses of their own.
  if (zeros(0, 6) && (g[6] as number) !== 0) return [last];
  if (zeros(0, 4) && g[4] === 0xffff && g[5] === 0) return [last];
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return [last];
  if (g[0] === 0x2002) return [v4(g[1] as number, g[2] as number)];
  if (g[0] === 0x2001 && g[1] === 0) {
    return [v4(g[2] as number, g[3] as number), v4(~(g[6] as number) & 0xffff, ~(g[7] as number) & 0xffff)];
  }
  return [];
}

/** The eight 16-bit groups of an IPv6 address (a dotted IPv4 tail included), or undefined. */
function ipv6Groups(address: string): number[] | undefined {
  if (isIP(address) !== 6) return undefined;
  let text = address.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((h) => Number.parseInt(h, 16)));
  const front = parse(head);
  const back = tail === undefined ? [] : parse(tail);
  const fill = tail === undefined ? [] : new Array<number>(8 - front.length - back.length).fill(0);
  const groups = [...front, ...fill, ...back];
  return groups.length === 8 ? groups : undefined;
}

function isAllowed(host: string, allowed: readonly string[]): boolean {
  return allowed.some((entry) => {
    if (!entry.includes('/')) return entry.toLowerCase() === host.toLowerCase();
    const [net, bits] = entry.split('/');
    const family = isIP(host);
    if (family === 0 || net === undefined || isIP(net) !== family) return false;
    const list = new BlockList();
    list.addSubnet(net, Number(bits), family === 4 ? 'ipv4' : 'ipv6');
    return list.check(host, family === 4 ? 'ipv4' : 'ipv6');
  });
}
