import { describe, it, expect } from 'vitest';
import { createRng } from '../core/rng.js';
import { solveDense } from '../math/reference.js';
import { createSolveWorkspace, gramMatrix, solveExplicitRow, solveImplicitRow } from './mf-solve.js';

const rank = 5;
const numItems = 30;
const rng = createRng(11);
const factors = Float32Array.from({ length: numItems * rank }, () => rng.normal());
const items = Int32Array.from([3, 7, 8, 15, 22, 29, 1]);
const values = Float32Array.from([5, 1, 4, -2, 3, 2, 0]);

// Gradient of Σ_q (r_q − xᵀy_q)² + reg·n·‖x‖²: −2Σ (r − xᵀy) y + 2·reg·n·x, which is 0 at the optimum.
function explicitGradient(x: ArrayLike<number>, reg: number, its: Int32Array, vals: Float32Array): number[] {
  const g = new Array<number>(rank).fill(0);
  for (let q = 0; q < its.length; q++) {
    let pred = 0;
    for (let a = 0; a < rank; a++) pred += x[a] * factors[its[q] * rank + a];
    for (let a = 0; a < rank; a++) g[a] -= 2 * (vals[q] - pred) * factors[its[q] * rank + a];
  }
  for (let a = 0; a < rank; a++) g[a] += 2 * reg * its.length * x[a];
  return g;
}

describe('explicit row solve', () => {
  it('zeroes the gradient of the ALS-WR objective and matches Gaussian elimination', () => {
    const ws = createSolveWorkspace(rank);
    solveExplicitRow(factors, rank, items, values, 0.3, false, ws);
    for (const g of explicitGradient(ws.x, 0.3, items, values)) expect(Math.abs(g)).toBeLessThan(1e-9);
    const a = new Array<number>(rank * rank).fill(0);
    const b = new Array<number>(rank).fill(0);
    for (let q = 0; q < items.length; q++) {
      for (let i = 0; i < rank; i++) {
        b[i] += values[q] * factors[items[q] * rank + i];
        for (let j = 0; j < rank; j++) a[i * rank + j] += factors[items[q] * rank + i] * factors[items[q] * rank + j];
      }
    }
    for (let i = 0; i < rank; i++) a[i * rank + i] += 0.3 * items.length;
    const expected = solveDense(a, rank, b);
    for (let i = 0; i < rank; i++) expect(ws.x[i]).toBeCloseTo(expected[i], 9);
  });

  it('ignores unknown items and non-finite values, and gives 0 without ratings', () => {
    const ws = createSolveWorkspace(rank);
    solveExplicitRow(factors, rank, items, values, 0.3, false, ws);
    const clean = Array.from(ws.x);
    solveExplicitRow(factors, rank, Int32Array.from([...items, -1, 999, 4]), Float32Array.from([...values, 3, 3, NaN]), 0.3, false, ws);
    for (let i = 0; i < rank; i++) expect(ws.x[i]).toBeCloseTo(clean[i], 12);
    solveExplicitRow(factors, rank, new Int32Array(0), new Float32Array(0), 0.3, false, ws);
    expect(Array.from(ws.x)).toEqual(new Array(rank).fill(0));
  });

  it('satisfies the KKT conditions when non-negative', () => {
    const ws = createSolveWorkspace(rank);
    solveExplicitRow(factors, rank, items, values, 0.1, true, ws);
    const g = explicitGradient(ws.x, 0.1, items, values);
    let clipped = 0;
    for (let a = 0; a < rank; a++) {
      expect(ws.x[a]).toBeGreaterThanOrEqual(0);
      if (ws.x[a] > 0) expect(Math.abs(g[a])).toBeLessThan(1e-8);
      else {
        clipped++;
        expect(g[a]).toBeGreaterThanOrEqual(-1e-8);
      }
    }
    expect(clipped).toBeGreaterThan(0); // random Gaussian factors make some constraint active
  });

  it('survives zero regularisation with fewer ratings than factors', () => {
    const ws = createSolveWorkspace(rank);
    solveExplicitRow(factors, rank, Int32Array.from([2, 5]), Float32Array.from([4, 3]), 0, false, ws);
    for (const v of ws.x) expect(Number.isFinite(v)).toBe(true);
  });
});

describe('implicit row solve', () => {
  it('matches the dense normal equations over all items (c = 1 + α|r|, p = [r > 0])', () => {
    const alpha = 2.5, reg = 0.2;
    const gram = new Float64Array(rank * rank);
    gramMatrix(factors, rank, gram);
    const ws = createSolveWorkspace(rank);
    solveImplicitRow(factors, rank, gram, items, values, reg, alpha, ws);
    // Independent formulation: every item contributes c·y yᵀ, positives add c·y to b.
    const conf = new Array<number>(numItems).fill(1);
    const pref = new Array<number>(numItems).fill(0);
    items.forEach((item, q) => {
      conf[item] = 1 + alpha * Math.abs(values[q]);
      pref[item] = values[q] > 0 ? 1 : 0;
    });
    const a = new Array<number>(rank * rank).fill(0);
    const b = new Array<number>(rank).fill(0);
    for (let it = 0; it < numItems; it++) {
      for (let i = 0; i < rank; i++) {
        b[i] += conf[it] * pref[it] * factors[it * rank + i];
        for (let j = 0; j < rank; j++) a[i * rank + j] += conf[it] * factors[it * rank + i] * factors[it * rank + j];
      }
    }
    for (let i = 0; i < rank; i++) a[i * rank + i] += reg;
    const expected = solveDense(a, rank, b);
    for (let i = 0; i < rank; i++) expect(ws.x[i]).toBeCloseTo(expected[i], 5);
  });

  it('computes YᵀY', () => {
    const gram = new Float64Array(rank * rank);
    gramMatrix(factors, rank, gram);
    for (let i = 0; i < rank; i++) {
      for (let j = 0; j < rank; j++) {
        let s = 0;
        for (let r = 0; r < numItems; r++) s += factors[r * rank + i] * factors[r * rank + j];
        expect(gram[i * rank + j]).toBeCloseTo(s, 9);
      }
    }
  });
});

describe('row solves with the WebAssembly Gram kernel', () => {
  const k = 32;
  const n = 2000;
  const rng2 = createRng(23);
  const y = Float32Array.from({ length: n * k }, () => rng2.normal() * 0.3);
  const gram = new Float64Array(k * k);
  gramMatrix(y, k, gram);
  for (const entries of [1, 49, 50, 300]) {
    it(`solves as the JavaScript loop does, to rounding, over ${entries} entries`, () => {
      const its = Int32Array.from({ length: entries }, () => rng2.int(n));
      const vals = Float32Array.from({ length: entries }, () => 1 + rng2.int(5));
      const simd = createSolveWorkspace(k);
      const js = createSolveWorkspace(k, { simd: false });
      solveImplicitRow(y, k, gram, its, vals, 0.05, 10, simd);
      solveImplicitRow(y, k, gram, its, vals, 0.05, 10, js);
      expect(simd.gram).not.toBeNull();
      expect(js.gram).toBeNull();
      for (let i = 0; i < k; i++) expect(Math.abs(simd.x[i] - js.x[i])).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(js.x[i])));
      solveExplicitRow(y, k, its, vals, 0.1, false, simd);
      solveExplicitRow(y, k, its, vals, 0.1, false, js);
      for (let i = 0; i < k; i++) expect(Math.abs(simd.x[i] - js.x[i])).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(js.x[i])));
    });
  }
});
