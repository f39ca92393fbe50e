import { describe, expect, it } from 'vitest';
import { createRng } from './rng.js';

describe('createRng', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    const a = createRng(7), b = createRng(7), c = createRng(8);
    const sa = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(sa);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(sa);
  });

  it('draws uniform values in [0,1) and integers in range', () => {
    const rng = createRng(1);
    let sum = 0;
    const counts = new Array<number>(4).fill(0);
    for (let i = 0; i < 40_000; i++) {
      const v = rng.next();
      expect(v >= 0 && v < 1).toBe(true);
      sum += v;
      counts[rng.int(4)]++;
    }
    expect(sum / 40_000).toBeCloseTo(0.5, 1);
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
  });

  it('draws standard normals', () => {
    const rng = createRng(3);
    let sum = 0, sq = 0;
    const n = 50_000;
    for (let i = 0; i < n; i++) {
      const v = rng.normal();
      sum += v;
      sq += v * v;
    }
    expect(Math.abs(sum / n)).toBeLessThan(0.03);
    expect(Math.abs(sq / n - 1)).toBeLessThan(0.03);
  });

  it('shuffles into a permutation', () => {
    const arr = Int32Array.from({ length: 100 }, (_, i) => i);
    createRng(5).shuffle(arr);
    expect(Array.from(arr).sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(Array.from(arr)).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
  });
});
