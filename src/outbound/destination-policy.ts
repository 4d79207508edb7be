import ipaddr from 'ipaddr.js';

// Where the gateway may send a request of its own (today: a school's or a
// client's remote JWKS, docs/remote-jwks.md). The registration names a URL;
// what counts is the address the socket connects to, so the check runs at
// connect time on the resolved address (a name that later resolves elsewhere,
// DNS rebinding, is checked again on every connection).

type Address = ipaddr.IPv4 | ipaddr.IPv6;

export interface DestinationPolicy {
  /** NODE_ENV=production: https to public addresses only, unless allowed below. */
  readonly production: boolean;
  /** Host names (exact, case-insensitive) and IP addresses or CIDR ranges an operator allows anyway. */
  readonly allowedHosts: ReadonlySet<string>;
  readonly allowedRanges: readonly (readonly [Address, number])[];
}

export type Refusal = 'not_https' | 'not_public';

/** Parse JWKS_URI_ALLOW-style entries: host names, IP addresses, CIDR ranges. */
export function destinationPolicy(production: boolean, allow: readonly string[] = []): DestinationPolicy {
  const allowedHosts = new Set<string>();
  const allowedRanges: (readonly [Address, number])[] = [];
  for (const entry of allow) {
    if (ipaddr.isValidCIDR(entry)) {
      const [range, bits] = ipaddr.parseCIDR(entry);
      allowedRanges.push(range.kind() === 'ipv6' && (range as ipaddr.IPv6).isIPv4MappedAddress() ? [(range as ipaddr.IPv6).toIPv4Address(), Math.max(bits - 96, 0)] : [range, bits]);
    } else if (ipaddr.isValid(entry)) {
      const address = ipaddr.process(entry);
      allowedRanges.push([address, address.kind() === 'ipv4' ? 32 : 128]);
    } else {
      allowedHosts.add(entry.toLowerCase());
    }
  }
  return Object.freeze({ production, allowedHosts, allowedRanges });
}

const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3');

/**
 * True for a globally routable unicast address: not loopback, private,
 * link-local (cloud metadata at 169.254.169.254), carrier-grade NAT, unique
 * local, multicast, documentation, reserved, nor an IPv6 form embedding an
 * IPv4 address (mapped, NAT64, 6to4, Teredo). IPv4-mapped IPv6 is judged as
 * the IPv4 address it carries.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  const parsed = ipaddr.process(address);
  if (parsed.range() !== 'unicast') return false;
  return parsed.kind() === 'ipv4' || parsed.match(GLOBAL_UNICAST_V6);
}

function allowedByOperator(policy: DestinationPolicy, hostname: string, address: string): boolean {
  if (policy.allowedHosts.has(hostname.toLowerCase())) return true;
  if (!ipaddr.isValid(address)) return false;
  const parsed = ipaddr.process(address);
  return policy.allowedRanges.some(([range, bits]) => range.kind() === parsed.kind() && parsed.match(range, bits));
}

/**
 * Why a connection to `address` (resolved from `hostname`) over `protocol`
 * must not be made, or undefined when it may. Outside production the
 * registration rules alone apply (https anywhere, http on loopback), so
 * development and tests can use loopback peers.
 */
export function refuseDestination(policy: DestinationPolicy, protocol: string, hostname: string, address: string): Refusal | undefined {
  if (!policy.production || allowedByOperator(policy, hostname, address)) return undefined;
  if (protocol !== 'https:') return 'not_https';
  if (!isPublicAddress(address)) return 'not_public';
  return undefined;
}
