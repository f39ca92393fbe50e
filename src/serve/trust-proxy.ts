/**
 * @module Which X-Forwarded-For entries the server believes. The client address decides rate-limit
 * buckets and appears in logs, so trusting every hop (Fastify's `trustProxy: true`) would let any
 * client pick its own address by sending the header: each forged address gets a fresh burst. Hop
 * counts cannot tell a proxy from a client connecting directly (Fastify 5.12 ignores them for that
 * reason). So the setting names the proxies in front by address: their entries are believed, and
 * the first address a non-proxy handed on is the client's.
 */
import { isIP } from 'node:net';

/** As Fastify's trustProxy takes it: off, or the trusted proxies' addresses and ranges. */
export type TrustProxy = false | string[];

/** proxy-addr's names for address ranges (Fastify hands them to it). */
const RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

const EXPECTED =
  'expected false, or comma-separated addresses or CIDR ranges of the proxies in front (e.g. 10.0.0.0/8), or the names loopback, linklocal, uniquelocal (private networks)';

/**
 * Reads the setting: '' / false (off), or comma-separated proxy addresses, CIDR ranges and the names
 * loopback, linklocal and uniquelocal.
 * @throws Error saying what was expected (the caller names the flag or variable)
 */
export function parseTrustProxy(text: string): TrustProxy {
  const t = text.trim().toLowerCase();
  if (['', 'false', 'no', 'off', '0'].includes(t)) return false;
  if (['true', 'yes', 'on', '1'].includes(t) || /^[0-9]+$/.test(t)) {
    throw new Error(`${EXPECTED}; ${JSON.stringify(text.trim())} would believe addresses a client sends itself, so name the proxies instead (behind a local nginx: loopback; behind a Kubernetes ingress: uniquelocal)`);
  }
  const entries = t.split(',').map((s) => s.trim());
  for (const entry of entries) {
    if (!isTrustedProxyEntry(entry)) throw new Error(`${EXPECTED}; ${JSON.stringify(entry)} is none of these`);
  }
  return entries;
}

function isTrustedProxyEntry(entry: string): boolean {
  if (RANGE_NAMES.has(entry)) return true;
  const slash = entry.indexOf('/');
  const address = slash < 0 ? entry : entry.slice(0, slash);
  const family = isIP(address);
  if (family === 0) return false;
  if (slash < 0) return true;
  const prefix = entry.slice(slash + 1);
  return /^[0-9]{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}
