import { BlockList, isIP } from 'node:net';

/**
 * Which factory endpoints may be registered. Public http(s) hosts are fine; loopback, private,
 * link-local (including the 169.254.169.254 metadata service), unique-local and unspecified
 * addresses are refused unless listed in `allowed` (host names, IPs or CIDRs), so a registered
 * "factory" cannot be used to reach the orchestrator's own network.
 *
 * Host names are checked as written; a public name that resolves to a private address is caught
 * only where the caller resolves it (not here: registration does no DNS).
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
] as const) {
  BLOCKED.addSubnet(net, prefix, 'ipv6');
}
const BLOCKED_NAMES = [/^localhost$/i, /\.localhost$/i, /^metadata\.google\.internal$/i, /^instance-data$/i];

/** Why `endpoint` may not be registered, or undefined when it may. */
export function endpointRefusal(endpoint: string, allowed: readonly string[] = []): string | undefined {
  const url = new URL(endpoint);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isAllowed(host, allowed)) return undefined;
  const family = isIP(host);
  if (family === 0) {
    return BLOCKED_NAMES.some((name) => name.test(host)) ? `host '${host}' is a local name` : undefined;
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const mapped = type === 'ipv6' ? /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host)?.[1] : undefined;
  if (mapped !== undefined) return endpointRefusal(`http://${mapped}/`, allowed);
  return BLOCKED.check(host, type)
    ? `address ${host} is loopback, private, link-local or metadata`
    : undefined;
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
