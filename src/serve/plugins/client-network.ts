/**
 * @module The network a rate-limit bucket is keyed by, for clients without an API key: an IPv4
 * address as it is, an IPv6 address by its /64. A /64 is what one subscriber or host is handed, and
 * any address inside it is theirs to use: keyed by the whole address, a client could rotate through
 * its /64 for a fresh burst each time, and push real clients out of the bounded bucket table.
 */

/** `ip` as a bucket key: IPv4 (also IPv4-mapped IPv6) whole, other IPv6 as `<first 64 bits>::/64`. */
export function clientNetwork(ip: string): string {
  if (!ip.includes(':')) return ip;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (mapped) return mapped[1];
  const zone = ip.indexOf('%');
  const groups = ipv6Groups(zone < 0 ? ip : ip.slice(0, zone));
  if (!groups) return ip;
  return `${groups.slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, in lower-case hex without leading zeros. */
function ipv6Groups(addr: string): string[] | undefined {
  const halves = addr.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] === '' ? [] : halves[0].split(':');
  const tail = halves.length === 1 || halves[1] === '' ? [] : halves[1].split(':');
  // A trailing dotted IPv4 part (64:ff9b::192.0.2.1) fills two groups.
  const width = (parts: string[]) => parts.length + (parts.at(-1)?.includes('.') ? 1 : 0);
  const missing = 8 - width(head) - width(tail);
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...Array<string>(halves.length === 1 ? 0 : missing).fill('0'), ...tail];
  return all.map((g) => (g.includes('.') ? g : parseInt(g, 16).toString(16)));
}
