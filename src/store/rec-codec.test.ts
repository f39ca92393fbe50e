import { describe, expect, it } from 'vitest';
import { createRng } from '../core/rng.js';
import { decodeRanked, encodeRanked, encodes } from './rec-codec.js';

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

  it('writes little-endian bytes, also from views into larger arrays', () => {
    const items = Int32Array.of(99, 258, 99);
    const scores = Float32Array.of(0, 0, 1.5, -2);
    const encoded = encodeRanked({ items: items.subarray(1, 2), scores: scores.subarray(2, 3) });
    expect([...encoded]).toEqual([1, 0x02, 0x01, 0, 0, 0, 0, 0xc0, 0x3f]);
    encoded.fill(0);
    expect(items[1]).toBe(258);
    expect(scores[2]).toBe(1.5);
  });

  it('decodes an empty list, and does not alias the input bytes', () => {
    expect(decodeRanked(Uint8Array.of(1), 'test').items.length).toBe(0);
    const encoded = encodeRanked({ items: Int32Array.of(7), scores: Float32Array.of(2) });
    const decoded = decodeRanked(encoded, 'test');
    encoded.fill(0);
    expect(decoded.items[0]).toBe(7);
  });

  it('gives each decoded list a buffer of exactly its size (a cached list must not hold a shared pool block)', () => {
    const n = 100;
    const decoded = decodeRanked(encodeRanked({ items: new Int32Array(n), scores: new Float32Array(n) }), 'test');
    expect(decoded.items.buffer.byteLength).toBe(8 * n);
    expect(decoded.scores.buffer).toBe(decoded.items.buffer);
  });

  it('rejects bytes that are not a ranked list, naming where they came from', () => {
    expect(() => decodeRanked(Uint8Array.of(), 'user-recs/u1')).toThrow(/user-recs\/u1: not a ranked list/);
    expect(() => decodeRanked(Uint8Array.of(3, 0, 0, 0, 0, 0, 0, 0, 0), 'x')).toThrow(expect.objectContaining({ code: 'RTREC_ERR_STORE_CORRUPT' }) as Error);
    expect(() => decodeRanked(Uint8Array.of(1, 0, 0, 0), 'x')).toThrow(/not a ranked list/);
  });

  it('keeps the mark of a list taken from the popular list, and tells marked from unmarked bytes', () => {
    const items = Int32Array.of(7, 2);
    const scores = Float32Array.of(40, 31);
    const marked = encodeRanked({ items, scores, fromPopular: true });
    const plain = encodeRanked({ items, scores });
    expect(marked[0]).toBe(2);
    expect(plain[0]).toBe(1);
    expect(marked.subarray(1).equals(plain.subarray(1))).toBe(true);
    const decoded = decodeRanked(marked, 'test');
    expect(decoded.fromPopular).toBe(true);
    expect([...decoded.items]).toEqual([7, 2]);
    expect(decodeRanked(plain, 'test').fromPopular).toBeUndefined();
    expect(encodes(marked, decoded)).toBe(true);
    expect(encodes(plain, decoded)).toBe(false);
    expect(encodes(marked, { items, scores })).toBe(false);
  });

  it('tells whether bytes encode a given list, for decoded lists (one buffer) and separately built ones', () => {
    const list = { items: Int32Array.of(4, 9, 1), scores: Float32Array.of(0.5, -2, 3) };
    const bytes = encodeRanked(list);
    const decoded = decodeRanked(bytes, 'test');
    for (const candidate of [list, decoded]) expect(encodes(bytes, candidate)).toBe(true);
    const changes = [
      { items: Int32Array.of(4, 9, 2), scores: list.scores },
      { items: list.items, scores: Float32Array.of(0.5, -2, 3.0000002) },
      { items: Int32Array.of(4, 9), scores: Float32Array.of(0.5, -2) },
    ];
    for (const other of changes) {
      expect(encodes(bytes, other)).toBe(false);
      expect(encodes(encodeRanked(other), decoded)).toBe(false);
    }
    // A longer backing buffer than the value (how LMDB hands out reads) must not matter.
    const host = new Uint8Array(64);
    host.set(bytes, 5);
    expect(encodes(host.subarray(5, 5 + bytes.length), decoded)).toBe(true);
    expect(encodes(Uint8Array.of(2, ...bytes.subarray(1)), decoded)).toBe(false);
  });
});
