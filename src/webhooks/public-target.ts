import { lookup as dnsLookup, LookupAddress } from 'node:dns';
import { lookup } from 'node:dns/promises';
import { Agent as HttpsAgent } from 'node:https';
import { isIP, LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { Agent } from 'undici';

/**
 * Ranges ipaddr.js counts as unicast that a server must still never reach: IPv4-compatible IPv6
 * (::/96, deprecated, would carry an IPv4 address), site-local (fec0::/10, deprecated) and 6to4
 * (2002::/16, which embeds an IPv4 address that may be private).
 */
const EXTRA_BLOCKED: [ipaddr.IPv6, number][] = [
  ipaddr.IPv6.parseCIDR('::/96'),
  ipaddr.IPv6.parseCIDR('fec0::/10'),
  ipaddr.IPv6.parseCIDR('2002::/16'),
];

/**
 * Only globally routable unicast addresses are public (SSRF): ipaddr.js names every special range
 * (loopback, private, link-local, ULA, multicast, NAT64, Teredo, documentation, benchmarking...).
 * IPv4 inside IPv6 (mapped ::ffff:a.b.c.d) is judged as the IPv4 address it carries.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  if (parsed.range() !== 'unicast') return false;
  if (parsed.kind() === 'ipv6') return !EXTRA_BLOCKED.some((range) => (parsed as ipaddr.IPv6).match(range));
  return true;
}

/**
 * Why `url` may not be used as an outbound target, or null when it may. With `allowPrivate`
 * (ALLOW_PRIVATE_TARGETS) http and loopback/private addresses are allowed too. This is the early,
 * friendly check; the connection itself goes through `pinnedLookup`, which checks the addresses it
 * actually connects to, so a name cannot resolve elsewhere in between (DNS rebinding).
 */
export async function targetProblem(url: string, allowPrivate: boolean): Promise<string | null> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'url must be an absolute URL';
  }
  const schemes = allowPrivate ? ['https:', 'http:'] : ['https:'];
  if (!schemes.includes(parsed.protocol)) return `url must use ${allowPrivate ? 'http or https' : 'https'}`;
  if (parsed.username || parsed.password) return 'url must not carry credentials';
  if (allowPrivate) return null;
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
  } catch {
    return 'url host does not resolve';
  }
  if (addresses.length === 0 || !addresses.every(isPublicAddress)) return 'url must resolve to public addresses only';
  return null;
}

export class NonPublicTargetError extends Error {
  readonly code = 'ENONPUBLIC';
}

/**
 * A `lookup` for sockets: resolves once and hands the connection only addresses that passed the
 * check, so what was checked is what is connected to.
 */
export function pinnedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true, verbatim: true }, (error, resolved) => {
      if (error) return callback(error, '', 0);
      const addresses = resolved as unknown as LookupAddress[];
      const allowed = allowPrivate ? addresses : addresses.filter((a) => isPublicAddress(a.address));
      if (allowed.length === 0 || allowed.length !== addresses.length) {
        return callback(new NonPublicTargetError(`${hostname} resolves to a non-public address`), '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, allowed);
      callback(null, allowed[0].address, allowed[0].family);
    });
  };
}

/** An undici dispatcher (for fetch) whose every connection goes through `pinnedLookup`. */
export function pinnedDispatcher(allowPrivate: boolean): Agent {
  return new Agent({ connect: { lookup: pinnedLookup(allowPrivate) } });
}

/** An https.Agent (for web-push) whose every connection goes through `pinnedLookup`. */
export function pinnedHttpsAgent(allowPrivate: boolean): HttpsAgent {
  return new HttpsAgent({ keepAlive: true, lookup: pinnedLookup(allowPrivate) });
}
