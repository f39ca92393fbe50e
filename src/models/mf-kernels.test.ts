import { describe, it, expect } from 'vitest';
import { createRng } from '../core/rng.js';
import { f32View, i32View } from '../math/shared-arena.js';
import { paddedRank } from '../math/simd-kernels.js';
import { clearGramPartials, createMfArena, createMfKernel, finishGram, type MfConfig, type MfArena } from './mf-kernels.js';
import { createSolveWorkspace, gramMatrix, solveExplicitRow, solveImplicitRow } from './mf-solve.js';
import { plantedInteractions, plantedRatings } from './mf-synthetic.js';

// The arena kernels (SIMD, padded rows, CG) are checked row by row against the Float64 solves of
// mf-solve.ts, which are themselves checked against dense Gaussian elimination.

function config(kind: 'als' | 'ials', rank: number, extra: Partial<MfConfig> = {}): MfConfig {
  return { kind, rank, stride: paddedRank(rank), reg: 0.15, alpha: 3, cgSteps: 3, nonnegative: false, ...extra };
}

function fillRandom(arena: MfArena, cfg: MfConfig, seed: number): void {
  const rng = createRng(seed);
  for (const key of ['userFactors', 'itemFactors'] as const) {
    const f = f32View(arena.memory, arena.layout[key]);
    for (let r = 0; r < f.length / cfg.stride; r++) for (let a = 0; a < cfg.rank; a++) f[r * cfg.stride + a] = rng.normal() * 0.5;
  }
}

function row(arena: MfArena, key: 'userFactors' | 'itemFactors', cfg: MfConfig, r: number): Float32Array {
  return f32View(arena.memory, arena.layout[key]).slice(r * cfg.stride, (r + 1) * cfg.stride);
}

function unpadded(arena: MfArena, key: 'userFactors' | 'itemFactors', cfg: MfConfig): Float32Array {
  const f = f32View(arena.memory, arena.layout[key]);
  const rows = f.length / cfg.stride;
  const out = new Float32Array(rows * cfg.rank);
  for (let r = 0; r < rows; r++) for (let a = 0; a < cfg.rank; a++) out[r * cfg.rank + a] = f[r * cfg.stride + a];
  return out;
}

// Entries of row r of the side being solved: (indices, values) of the users→items or items→users matrix.
function entries(arena: MfArena, side: 'users' | 'items', r: number): { items: Int32Array; values: Float32Array } {
  const { memory, layout } = arena;
  const indptr = i32View(memory, side === 'users' ? layout.userIndptr : layout.itemIndptr);
  const indices = i32View(memory, side === 'users' ? layout.userIndices : layout.itemIndices);
  const data = f32View(memory, side === 'users' ? layout.userData : layout.itemData);
  return { items: indices.slice(indptr[r], indptr[r + 1]), values: data.slice(indptr[r], indptr[r + 1]) };
}

const ratings = plantedRatings({ users: 40, items: 30, rank: 3, density: 0.3, noise: 0.3, testFraction: 0, seed: 5 });

describe('explicit half-step kernel', () => {
  for (const rank of [3, 8, 13]) {
    for (const side of ['users', 'items'] as const) {
      it(`solves every ${side} row like the Float64 reference (rank ${rank})`, () => {
        const cfg = config('als', rank);
        const arena = createMfArena(ratings.train, cfg, 1);
        fillRandom(arena, cfg, rank);
        const solvedKey = side === 'users' ? 'userFactors' : 'itemFactors';
        const fixed = unpadded(arena, side === 'users' ? 'itemFactors' : 'userFactors', cfg);
        const rows = side === 'users' ? ratings.train.rows : ratings.train.cols;
        const { sse } = createMfKernel(arena.memory, arena.layout, cfg, 0)({ op: 'solve', side, start: 0, end: rows });
        const ws = createSolveWorkspace(rank);
        let expectedSse = 0;
        for (let r = 0; r < rows; r++) {
          const { items, values } = entries(arena, side, r);
          solveExplicitRow(fixed, rank, items, values, cfg.reg, false, ws);
          const got = row(arena, solvedKey, cfg, r);
          for (let a = 0; a < rank; a++) expect(got[a]).toBeCloseTo(ws.x[a], 4);
          for (let a = rank; a < cfg.stride; a++) expect(got[a]).toBe(0);
          items.forEach((item, q) => {
            let dot = 0;
            for (let a = 0; a < rank; a++) dot += got[a] * fixed[item * rank + a];
            expectedSse += (values[q] - dot) ** 2;
          });
        }
        if (side === 'users') expect(sse).toBeCloseTo(expectedSse, 3);
        else expect(sse).toBe(0);
      });
    }
  }

  it('solves with NNLS when non-negative', () => {
    const cfg = config('als', 6, { nonnegative: true });
    const arena = createMfArena(ratings.train, cfg, 1);
    fillRandom(arena, cfg, 9);
    const fixed = unpadded(arena, 'itemFactors', cfg);
    createMfKernel(arena.memory, arena.layout, cfg, 0)({ op: 'solve', side: 'users', start: 0, end: ratings.train.rows });
    const ws = createSolveWorkspace(6);
    for (let r = 0; r < ratings.train.rows; r++) {
      const { items, values } = entries(arena, 'users', r);
      solveExplicitRow(fixed, 6, items, values, cfg.reg, true, ws);
      const got = row(arena, 'userFactors', cfg, r);
      for (let a = 0; a < 6; a++) {
        expect(got[a]).toBeGreaterThanOrEqual(0);
        expect(got[a]).toBeCloseTo(ws.x[a], 4);
      }
    }
  });
});

describe('implicit half-step kernel', () => {
  const inter = plantedInteractions({ users: 50, items: 40, groups: 4, perUser: 6, crossRate: 0.2, seed: 2 });
  // Make some strengths negative (dislikes) to cover p = 0 with confidence > 1.
  const train = { ...inter.train, data: inter.train.data.map((v, q) => (q % 7 === 0 ? -v : v)) };

  function gramFor(arena: MfArena, cfg: MfConfig, side: 'users' | 'items', threads: number): void {
    clearGramPartials(arena);
    const rows = side === 'users' ? train.cols : train.rows;
    const half = Math.floor(rows / 2);
    // Two thread slots each take part of the rows, as workers would.
    createMfKernel(arena.memory, arena.layout, cfg, 0)({ op: 'gram', side, start: 0, end: half });
    createMfKernel(arena.memory, arena.layout, cfg, threads - 1)({ op: 'gram', side, start: half, end: rows });
    finishGram(arena, cfg);
  }

  for (const rank of [5, 16]) {
    it(`puts YᵀY + reg·I into the arena from per-thread partials (rank ${rank})`, () => {
      const cfg = config('ials', rank);
      const arena = createMfArena(train, cfg, 2);
      fillRandom(arena, cfg, 1);
      gramFor(arena, cfg, 'users', 2);
      const expected = new Float64Array(rank * rank);
      gramMatrix(unpadded(arena, 'itemFactors', cfg), rank, expected);
      const gram = f32View(arena.memory, arena.layout.gram);
      for (let i = 0; i < cfg.stride; i++) {
        for (let j = 0; j < cfg.stride; j++) {
          const want = i < rank && j < rank ? expected[i * rank + j] + (i === j ? cfg.reg : 0) : 0;
          expect(gram[i * cfg.stride + j]).toBeCloseTo(want, 3);
        }
      }
    });

    it(`converges to the exact solve with enough CG steps (rank ${rank})`, () => {
      const cfg = config('ials', rank, { cgSteps: 3 * rank });
      const arena = createMfArena(train, cfg, 1);
      fillRandom(arena, cfg, 4);
      gramFor(arena, cfg, 'items', 1);
      const fixed = unpadded(arena, 'userFactors', cfg);
      const gram = new Float64Array(rank * rank);
      gramMatrix(fixed, rank, gram);
      createMfKernel(arena.memory, arena.layout, cfg, 0)({ op: 'solve', side: 'items', start: 0, end: train.cols });
      const ws = createSolveWorkspace(rank);
      for (let r = 0; r < train.cols; r++) {
        const { items, values } = entries(arena, 'items', r);
        solveImplicitRow(fixed, rank, gram, items, values, cfg.reg, cfg.alpha, ws);
        const got = row(arena, 'itemFactors', cfg, r);
        for (let a = 0; a < rank; a++) expect(Math.abs(got[a] - ws.x[a])).toBeLessThan(2e-3 * (1 + Math.abs(ws.x[a])));
        for (let a = rank; a < cfg.stride; a++) expect(got[a]).toBe(0);
      }
    });
  }

  it('moves every row towards the exact solution in 3 CG steps', () => {
    const rank = 12;
    const cfg = config('ials', rank);
    const arena = createMfArena(train, cfg, 1);
    fillRandom(arena, cfg, 8);
    gramFor(arena, cfg, 'users', 1);
    const fixed = unpadded(arena, 'itemFactors', cfg);
    const gram = new Float64Array(rank * rank);
    gramMatrix(fixed, rank, gram);
    const before = unpadded(arena, 'userFactors', cfg);
    createMfKernel(arena.memory, arena.layout, cfg, 0)({ op: 'solve', side: 'users', start: 0, end: train.rows });
    const ws = createSolveWorkspace(rank);
    for (let r = 0; r < train.rows; r++) {
      const { items, values } = entries(arena, 'users', r);
      solveImplicitRow(fixed, rank, gram, items, values, cfg.reg, cfg.alpha, ws);
      const got = row(arena, 'userFactors', cfg, r);
      let distBefore = 0, distAfter = 0;
      for (let a = 0; a < rank; a++) {
        distBefore += (before[r * rank + a] - ws.x[a]) ** 2;
        distAfter += (got[a] - ws.x[a]) ** 2;
      }
      expect(distAfter).toBeLessThan(distBefore);
    }
  });
});
