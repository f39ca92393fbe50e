import { describe, expect, it } from 'vitest';
import { createRng } from '../core/rng.js';
import { decodeRanked, encodeRanked } from './rec-codec.js';

describe('ranked list encoding', () => {
  it('round-trips items and float32 scores exactly, whatever the alignment of the bytes', () => {
    const rng = createRng(5);
    const n = 37;
    const items = Int32Array.from({ length: n }, () => rng.int(1 << 30) - (1 << 29));
    const scores = Float32Array.from({ length: n }, () => (rng.next() - 0.5) * 1e4);
    const encoded = encodeRanked({ items, scores });
    expect(encoded.length).toBe(1 + 8 * n);
    for (const offset of [0, 1, 3]) {
      const host = new Uint8Array(offset + encoded.length);
      host.set(encoded, offset);
      const decoded = decodeRanked(host.subarray(offset), 'test');
      expect([...decoded.items]).toEqual([...items]);
      expect([...decoded.scores]).toEqual([...scores]);
    }
  });

  it('reads little-endian bytes written by hand', () => {
    // one entry: item 258 (0x0102), score 1.5 (0x3fc00000)
    const bytes = Uint8Array.of(1, 0x02, 0x01, 0, 0, 0, 0, 0xc0, 0x3f);
    const decoded = decodeRanked(bytes, 'test');
    expect([...decoded.items]).toEqual([258]);
    expect([...decoded.scores]).toEqual([1.5]);
  });

  it('decodes an empty list, and does not alias the input bytes', () => {
    expect(decodeRanked(Uint8Array.of(1), 'test').items.length).toBe(0);
    const encoded = encodeRanked({ items: Int32Array.of(7), scores: Float32Array.of(2) });
    const decoded = decodeRanked(encoded, 'test');
    encoded.fill(0);
    expect(decoded.items[0]).toBe(7);
  });

  it('rejects bytes that are not a ranked list, naming where they came from', () => {
    expect(() => decodeRanked(Uint8Array.of(), 'user-recs/u1')).toThrow(/user-recs\/u1: not a ranked list/);
    expect(() => decodeRanked(Uint8Array.of(2, 0, 0, 0, 0, 0, 0, 0, 0), 'x')).toThrow(expect.objectContaining({ code: 'RTREC_ERR_STORE_CORRUPT' }) as Error);
    expect(() => decodeRanked(Uint8Array.of(1, 0, 0, 0), 'x')).toThrow(/not a ranked list/);
  });
});
