import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/**
 * Where an event subscription may point. Any URL must be http(s). In production (unless
 * TETHER_ALLOW_PRIVATE_EVENT_URLS=1) the address it reaches must also be public: loopback, private,
 * link-local, carrier-grade NAT, unspecified, multicast and reserved ranges are refused. The check
 * runs at delivery, on the addresses the name resolved to, inside the socket's own lookup, so the
 * address checked is the address connected to (a name that resolves to a public address when the
 * subscription is made and to 127.0.0.1 at delivery is still refused).
 */
export interface UrlPolicy {
  /** Refuse non-public addresses (production without allowPrivateEventUrls). */
  publicOnly: boolean;
}

const NOT_PUBLIC = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  NOT_PUBLIC.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  // ::/96 holds :: and ::1, and the deprecated IPv4-compatible form (::127.0.0.1).
  ['::', 96],
  ['::ffff:0:0:0', 96], // IPv4-translated (not ::ffff:0:0/96, the IPv4-mapped range)
  ['64:ff9b::', 96], // NAT64: reaches the IPv4 address it embeds
  ['100::', 64], // discard-only
  ['2001::', 32], // Teredo: tunnels to the IPv4 address it embeds
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4: reaches the IPv4 address it embeds too
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8],
] as const)
  NOT_PUBLIC.addSubnet(net, prefix, 'ipv6');

/** Whether an IP address is one a production tether must not send to. */
export function isNonPublicAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return NOT_PUBLIC.check(mapped[1]!, 'ipv4');
  const family = isIP(address);
  if (family === 0) return true;
  return NOT_PUBLIC.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** The reason a URL is refused as written (scheme, credentials, a literal non-public address), or null. */
export function urlProblem(raw: string, policy: UrlPolicy): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be http or https';
  if (url.username || url.password) return 'must not carry credentials';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (policy.publicOnly && isIP(host) && isNonPublicAddress(host))
    return 'points at a loopback, private or link-local address';
  return null;
}

export class RefusedAddressError extends Error {}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/** A `lookup` for node:http that refuses non-public addresses after resolution. */
export function guardedLookup(
  hostname: string,
  options: { family?: number | string; all?: boolean },
  callback: LookupCallback,
): void {
  dnsLookup(hostname, { ...options, all: true } as never, (error, found: LookupAddress[]) => {
    if (error) return callback(error, []);
    const refused = found.find((entry) => isNonPublicAddress(entry.address));
    if (refused)
      return callback(
        new RefusedAddressError(`${hostname} resolves to ${refused.address}, which is not a public address`),
        [],
      );
    if (options.all) return callback(null, found);
    const [first] = found;
    if (!first) return callback(new RefusedAddressError(`${hostname} resolves to no address`), []);
    callback(null, first.address, first.family);
  });
}
