import { describe, expect, it } from 'vitest';
import { clientNetwork } from './client-network.js';

describe('clientNetwork', () => {
  it('keys IPv4 (and IPv4-mapped IPv6) by the whole address', () => {
    expect(clientNetwork('203.0.113.7')).toBe('203.0.113.7');
    expect(clientNetwork('::ffff:203.0.113.7')).toBe('203.0.113.7');
  });

  it('keys IPv6 by its /64, however the address is written', () => {
    const net = '2001:db8:0:1::/64';
    expect(clientNetwork('2001:db8:0:1::1')).toBe(net);
    expect(clientNetwork('2001:0DB8:0000:0001:ffff:ffff:ffff:fffe')).toBe(net);
    expect(clientNetwork('2001:db8::1:0:0:0:9')).toBe(net);
    expect(clientNetwork('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(clientNetwork('::1')).toBe('0:0:0:0::/64');
    expect(clientNetwork('2001:db8:0:2::1')).not.toBe(net);
    expect(clientNetwork('::a:b:c:d:192.0.2.1')).toBe('0:0:a:b::/64');
  });
});
