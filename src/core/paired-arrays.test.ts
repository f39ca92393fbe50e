import { describe, expect, it } from 'vitest';
import { pairedArrays, pairedCopy } from './paired-arrays.js';

describe('pairedArrays', () => {
  it('lays out ints then floats on one buffer, without overlap', () => {
    const { ints, floats } = pairedArrays(3);
    expect(ints.buffer).toBe(floats.buffer);
    expect(ints.byteOffset).toBe(0);
    expect(floats.byteOffset).toBe(12);
    expect(ints.buffer.byteLength).toBe(24);
    ints.set([-1, 2, 2147483647]);
    floats.set([0.5, -3, 1e-7]);
    expect(Array.from(ints)).toEqual([-1, 2, 2147483647]);
    expect(Array.from(floats)).toEqual([0.5, -3, Math.fround(1e-7)]);
  });

  it('handles empty pairs', () => {
    const { ints, floats } = pairedArrays(0);
    expect(ints.length).toBe(0);
    expect(floats.length).toBe(0);
  });
});

describe('pairedCopy', () => {
  it('copies both arrays into one buffer, independent of the sources', () => {
    const srcInts = Int32Array.of(4, 5);
    const srcFloats = Float32Array.of(0.25, 0.75);
    const { ints, floats } = pairedCopy(srcInts, srcFloats);
    srcInts[0] = 9;
    srcFloats[0] = 9;
    expect(Array.from(ints)).toEqual([4, 5]);
    expect(Array.from(floats)).toEqual([0.25, 0.75]);
    expect(ints.buffer).toBe(floats.buffer);
  });

  it('refuses arrays of different lengths', () => {
    expect(() => pairedCopy([1, 2], [0.5])).toThrow(/equal lengths, got 2 and 1/);
  });
});
