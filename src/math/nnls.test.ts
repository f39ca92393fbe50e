import { describe, it, expect } from 'vitest';
import { createRng } from '../core/rng.js';
import { createNnlsWorkspace, nnlsSolve } from './nnls.js';
import { quadraticObjective, solveDense } from './reference.js';

// Brute force: the constrained optimum is the best feasible unconstrained solve over all supports.
function bruteForce(a: Float64Array, n: number, b: Float64Array): Float64Array {
  let best = new Float64Array(n);
  let bestValue = 0;
  for (let mask = 1; mask < 1 << n; mask++) {
    const members = [...Array(n).keys()].filter((i) => mask & (1 << i));
    const m = members.length;
    const sub = members.flatMap((i) => members.map((j) => a[i * n + j]));
    const xs = solveDense(sub, m, members.map((i) => b[i]));
    if (xs.some((v) => !(v >= 0))) continue;
    const x = new Float64Array(n);
    members.forEach((i, p) => (x[i] = xs[p]));
    const value = quadraticObjective(a, n, b, x);
    if (value < bestValue) {
      bestValue = value;
      best = x;
    }
  }
  return best;
}

describe('nnls', () => {
  it('keeps the unconstrained solution when it is already non-negative', () => {
    const a = new Float64Array([2, 0, 0, 4]);
    const b = new Float64Array([2, 4]);
    const x = new Float64Array(2);
    nnlsSolve(a, 2, b, x, createNnlsWorkspace(2));
    expect(x[0]).toBeCloseTo(1, 12);
    expect(x[1]).toBeCloseTo(1, 12);
  });

  it('clips a hand-computed case to the boundary', () => {
    // min ½xᵀ[2 1;1 2]x − [1,−2]ᵀx, x ≥ 0: x2 = 0, then 2·x1 = 1 → x = [0.5, 0].
    const x = new Float64Array(2);
    nnlsSolve(new Float64Array([2, 1, 1, 2]), 2, new Float64Array([1, -2]), x, createNnlsWorkspace(2));
    expect(x[0]).toBeCloseTo(0.5, 12);
    expect(x[1]).toBe(0);
  });

  it('matches brute force over all supports on random problems', () => {
    const rng = createRng(3);
    for (let trial = 0; trial < 40; trial++) {
      const n = 1 + (trial % 6);
      const m = Float64Array.from({ length: n * (n + 2) }, () => rng.normal());
      const a = new Float64Array(n * n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
        let s = i === j ? 0.1 : 0;
        for (let p = 0; p < n + 2; p++) s += m[i * (n + 2) + p] * m[j * (n + 2) + p];
        a[i * n + j] = s;
      }
      const b = Float64Array.from({ length: n }, () => rng.normal() * 3);
      const x = new Float64Array(n);
      nnlsSolve(a, n, b, x, createNnlsWorkspace(n));
      const expected = bruteForce(a, n, b);
      for (let i = 0; i < n; i++) {
        expect(x[i]).toBeGreaterThanOrEqual(0);
        expect(x[i]).toBeCloseTo(expected[i], 7);
      }
    }
  });
});
