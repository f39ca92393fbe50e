import { describe, it, expect } from 'vitest';
import { createRng } from '../core/rng.js';
import { allocateArena, f32View, i32View, planArena } from './shared-arena.js';
import { createSimdKernels, paddedRank, type SimdKernels } from './simd-kernels.js';

// Each kernel is checked against a plain loop written here, on random data with zero padding.
function setup(rank: number, rows: number, nnz: number) {
  const s = paddedRank(rank);
  const { layout, bytes } = planArena({
    y: { type: 'f32', length: rows * s },
    idx: { type: 'i32', length: nnz },
    data: { type: 'f32', length: nnz },
    v: { type: 'f32', length: s },
    w: { type: 'f32', length: s },
    out: { type: 'f32', length: s * s },
    a: { type: 'f32', length: s * s },
  });
  const memory = allocateArena(bytes);
  const rng = createRng(7);
  const y = f32View(memory, layout.y);
  for (let r = 0; r < rows; r++) for (let i = 0; i < rank; i++) y[r * s + i] = rng.normal();
  const idx = i32View(memory, layout.idx);
  for (let q = 0; q < nnz; q++) idx[q] = rng.int(rows);
  const data = f32View(memory, layout.data);
  for (let q = 0; q < nnz; q++) data[q] = q % 3 === 0 ? -(1 + rng.int(3)) : 1 + rng.int(5);
  const v = f32View(memory, layout.v);
  const w = f32View(memory, layout.w);
  for (let i = 0; i < rank; i++) {
    v[i] = rng.normal();
    w[i] = rng.normal();
  }
  const a = f32View(memory, layout.a);
  for (let i = 0; i < rank; i++) for (let j = 0; j < rank; j++) a[i * s + j] = rng.normal();
  const k: SimdKernels = createSimdKernels(memory);
  return { s, len: s * 4, layout, memory, y, idx, data, v, w, a, out: f32View(memory, layout.out), k };
}

const closeTo = (actual: number, expected: number, scale = 1): void => {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-4 * Math.max(scale, Math.abs(expected)));
};

describe('simd kernels', () => {
  for (const rank of [1, 4, 10, 16, 64]) {
    it(`dot, matVec, cgUpdate, xpay and scale match plain loops (rank ${rank})`, () => {
      const t = setup(rank, 5, 3);
      let dot = 0;
      for (let i = 0; i < rank; i++) dot += t.v[i] * t.w[i];
      closeTo(t.k.dot(t.layout.v.offset, t.layout.w.offset, t.len), dot, rank);

      t.k.matVec(t.layout.a.offset, t.layout.v.offset, t.layout.out.offset, t.len);
      for (let i = 0; i < rank; i++) {
        let s = 0;
        for (let j = 0; j < rank; j++) s += t.a[i * t.s + j] * t.v[j];
        closeTo(t.out[i], s, rank);
      }

      const x0 = Array.from(t.out.subarray(0, t.s));
      const r0 = Array.from(t.y.subarray(0, t.s));
      const ap = Array.from(t.y.subarray(t.s, 2 * t.s));
      const rs = t.k.cgUpdate(t.layout.out.offset, t.layout.y.offset, t.layout.v.offset, t.layout.y.offset + t.len, 0.5, t.len);
      let expectRs = 0;
      for (let i = 0; i < t.s; i++) {
        closeTo(t.out[i], x0[i] + 0.5 * t.v[i]);
        const r = r0[i] - 0.5 * ap[i];
        closeTo(t.y[i], r);
        expectRs += r * r;
      }
      closeTo(rs, expectRs, rank);

      const p0 = Array.from(t.v.subarray(0, t.s));
      t.k.xpay(t.layout.v.offset, t.layout.w.offset, -2, t.len);
      for (let i = 0; i < t.s; i++) closeTo(t.v[i], t.w[i] - 2 * p0[i]);
      t.k.scale(t.layout.w.offset, 3, t.len);
      for (let i = 0; i < rank; i++) closeTo(t.w[i], 3 * (t.v[i] + 2 * p0[i]));
    });

    it(`weighted passes match the implicit-ALS formulas (rank ${rank})`, () => {
      const alpha = 0.7;
      // Blocks of four entries plus a tail: cover tail only, one block, and both.
      for (const [mode, nnz] of [['step', 3], ['init', 4], ['sum', 23], ['step', 23], ['init', 23], ['sum', 1]] as const) {
        const t = setup(rank, 11, nnz);
        const start = Array.from(t.out.subarray(0, t.s));
        const expected = start.slice();
        for (let q = 0; q < nnz; q++) {
          const o = t.idx[q] * t.s;
          const r = t.data[q];
          let d = 0;
          for (let i = 0; i < rank; i++) d += t.y[o + i] * t.v[i];
          const c1 = alpha * Math.abs(r);
          const coef = mode === 'sum' ? r : mode === 'step' ? c1 * d : (r > 0 ? 1 + c1 : 0) - c1 * d;
          for (let i = 0; i < rank; i++) expected[i] += coef * t.y[o + i];
        }
        const fn = mode === 'sum' ? t.k.passSum : mode === 'step' ? t.k.passStep : t.k.passInit;
        fn(t.layout.y.offset, t.layout.idx.offset, t.layout.data.offset, nnz, t.len, t.layout.v.offset, t.layout.out.offset, alpha);
        for (let i = 0; i < t.s; i++) closeTo(t.out[i], expected[i], 10 * rank);
      }
    });

    it(`gram kernels give the lower triangle of Σ y yᵀ (rank ${rank})`, () => {
      const t = setup(rank, 9, 13);
      t.out.fill(123); // must be overwritten
      t.k.gramRows(t.layout.y.offset + t.len, 0, 5, t.len, t.layout.out.offset);
      for (let i = 0; i < rank; i++) {
        for (let j = 0; j <= i; j++) {
          let g = 0;
          for (let r = 1; r < 6; r++) g += t.y[r * t.s + i] * t.y[r * t.s + j];
          closeTo(t.out[i * t.s + j], g, 5);
        }
      }
      t.k.gramIndexed(t.layout.y.offset, t.layout.idx.offset, 13, t.len, t.layout.out.offset);
      for (let i = 0; i < rank; i++) {
        for (let j = 0; j <= i; j++) {
          let g = 0;
          for (let q = 0; q < 13; q++) g += t.y[t.idx[q] * t.s + i] * t.y[t.idx[q] * t.s + j];
          closeTo(t.out[i * t.s + j], g, 13);
        }
      }
      // Upper entries beyond the rounded-up lower triangle are zero.
      for (let i = 0; i < t.s; i++) for (let j = (i & ~3) + 4; j < t.s; j++) expect(t.out[i * t.s + j]).toBe(0);
    });
  }
});
