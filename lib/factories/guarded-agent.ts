import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Agent, buildConnector } from 'undici';
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

export interface GuardedAgentOptions {
  /** Private hosts, IPs or CIDRs that may be connected to anyway (see `endpoint-policy.ts`). */
  allowed?: readonly string[] | undefined;
  /** How host names are resolved (default `dns.lookup`). */
  resolve?: Resolve | undefined;
  /** Upper bound of establishing one connection, ms (default 10 000). */
  connectTimeoutMs?: number | undefined;
}

/**
 * An undici agent that checks the address it is about to connect to against the endpoint policy.
 * Each new connection resolves its host name (an IP literal is taken as is), refuses it when any
 * address it resolves to is refused, and otherwise connects to the first address it checked, so
 * the address checked is the address connected to (a name that changes its answer between a check
 * and the connection cannot slip through). A refusal fails the request with `EndpointRefusedError`
 * before any socket is opened. TLS still verifies the certificate against the host name.
 */
export function guardedAgent(options: GuardedAgentOptions = {}): Agent {
  const allowed = options.allowed ?? [];
  const resolve = options.resolve ?? systemResolve;
  const connect = buildConnector({ timeout: options.connectTimeoutMs ?? 10_000 });
  return new Agent({
    connect(connectOptions, callback) {
      checkedAddress(connectOptions.hostname, allowed, resolve).then(
        (address) => connect({ ...connectOptions, hostname: address }, callback),
        (error: Error) => callback(error, null),
      );
    },
  });
}

/** The address to connect to for `hostname`, every address it resolves to having been checked. */
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
