import { lookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import { connectRefusal } from '../core/endpoint-policy.ts';

/** One address a host name resolves to. */
export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Resolves a host name to every address it has (the system resolver by default). */
export type Resolve = (hostname: string) => Promise<readonly ResolvedAddress[]>;

/** `dns.lookup` with every address, in the order the system gives them. */
export const systemResolve: Resolve = (hostname) => lookup(hostname, { all: true, order: 'verbatim' });

/** A connection the endpoint policy refuses: no socket was opened. */
export class EndpointRefusedError extends Error {
  override readonly name = 'EndpointRefusedError';
  readonly code = 'VOBEE_ENDPOINT_REFUSED';
}

/**
 * A `net` lookup that answers `address` whatever it is asked: the connection goes to the address
 * that was checked ({@link checkedAddress}), never to a second answer of the resolver.
 */
export function pinnedLookup(address: string): LookupFunction {
  const family = isIP(address);
  return (_hostname, options, callback) => {
    // With `all` (Node's happy-eyeballs connect asks for it), the answer is a list.
    if (options.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  };
}

/**
 * The address to connect to for `hostname`, every address it resolves to having been checked
 * against the endpoint policy (an IP literal is checked as written): a name with any refused
 * address is refused with `EndpointRefusedError`, before any socket exists.
 */
export async function checkedAddress(
  hostname: string,
  allowed: readonly string[],
  resolve: Resolve,
): Promise<string> {
  const host = hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) !== 0 ? [host] : (await resolve(host)).map((a) => a.address);
  const [first] = addresses;
  if (first === undefined) throw new Error(`host '${host}' resolves to no address`);
  for (const address of addresses) {
    const refusal = connectRefusal(host, address, allowed);
    if (refusal !== undefined) throw new EndpointRefusedError(`endpoint refused: ${refusal}`);
  }
  return first;
}
