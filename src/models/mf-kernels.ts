/**
 * @module The training half-step kernels of explicit and implicit ALS over a shared fit arena: pure
 * functions of (memory, layout, config, thread slot) that solve a range of rows or accumulate part of
 * a Gram matrix. The same code runs in worker threads (models/mf-worker.ts) and on the main thread.
 *
 * Arena: factors are padded to `stride` floats per row (rank rounded up to 4, padding zero) so that
 * the f32x4 kernels of math/simd-kernels.ts apply; both orientations of the interaction matrix are
 * stored (users→items for the user half-step, items→users for the item half-step).
 */
import { transpose, type CsrMatrix } from '../core/csr.js';
import { allocateArena, f32View, f64View, i32View, planArena, type ArenaLayout } from '../math/shared-arena.js';
import { createSimdKernels } from '../math/simd-kernels.js';
import type { WasmMemory } from '../math/wasm-runtime.js';
import { createSolveWorkspace, solveNormalEquations } from './mf-solve.js';

export type MfKind = 'als' | 'ials';

export interface MfConfig {
  readonly kind: MfKind;
  readonly rank: number;
  /** Floats per factor row in the arena: rank rounded up to a multiple of 4. */
  readonly stride: number;
  readonly reg: number;
  /** Implicit only: confidence c = 1 + alpha·|r|. */
  readonly alpha: number;
  /** Implicit only: conjugate-gradient steps per row and half-step. */
  readonly cgSteps: number;
  /** Explicit only: solve with x ≥ 0 (NNLS). */
  readonly nonnegative: boolean;
}

/** Which factor matrix a half-step solves (the other one is held fixed). */
export type Side = 'users' | 'items';

export type MfTask =
  | { readonly op: 'gram'; readonly side: Side; readonly start: number; readonly end: number }
  | { readonly op: 'solve'; readonly side: Side; readonly start: number; readonly end: number };

export interface MfTaskResult {
  /** Explicit user half-step: Σ (r − xᵀy)² over the rows solved, with the new factors; else 0. */
  readonly sse: number;
}

export type MfArenaKey =
  | 'userFactors' | 'itemFactors'
  | 'userIndptr' | 'userIndices' | 'userData'
  | 'itemIndptr' | 'itemIndices' | 'itemData'
  | 'gram' | 'scratch' | 'partials';

export interface MfArenaShape {
  readonly numUsers: number;
  readonly numItems: number;
  readonly nnz: number;
  readonly threads: number;
}

// Per thread: r, p, Ap (stride floats each) and one stride×stride block.
const scratchFloats = (stride: number): number => 3 * stride + stride * stride;

/** Plans the fit arena for `threads` thread slots. */
export function planMfArena(cfg: MfConfig, shape: MfArenaShape): { layout: ArenaLayout<MfArenaKey>; bytes: number } {
  const s = cfg.stride;
  return planArena<MfArenaKey>({
    userFactors: { type: 'f32', length: shape.numUsers * s },
    itemFactors: { type: 'f32', length: shape.numItems * s },
    userIndptr: { type: 'i32', length: shape.numUsers + 1 },
    userIndices: { type: 'i32', length: shape.nnz },
    userData: { type: 'f32', length: shape.nnz },
    itemIndptr: { type: 'i32', length: shape.numItems + 1 },
    itemIndices: { type: 'i32', length: shape.nnz },
    itemData: { type: 'f32', length: shape.nnz },
    gram: { type: 'f32', length: s * s },
    scratch: { type: 'f32', length: shape.threads * scratchFloats(s) },
    partials: { type: 'f64', length: shape.threads * s * s },
  });
}

export interface MfArena {
  readonly memory: WasmMemory;
  readonly layout: ArenaLayout<MfArenaKey>;
}

/**
 * Allocates the arena for `userItems` with `threads` thread slots and copies in both orientations
 * of the matrix; factors start at zero.
 */
export function createMfArena(userItems: CsrMatrix, cfg: MfConfig, threads: number): MfArena {
  const numUsers = userItems.rows, numItems = userItems.cols;
  const nnz = userItems.indptr[numUsers];
  const { layout, bytes } = planMfArena(cfg, { numUsers, numItems, nnz, threads });
  const memory = allocateArena(bytes);
  const itemUsers = transpose(userItems);
  i32View(memory, layout.userIndptr).set(userItems.indptr);
  i32View(memory, layout.userIndices).set(userItems.indices.subarray(0, nnz));
  f32View(memory, layout.userData).set(userItems.data.subarray(0, nnz));
  i32View(memory, layout.itemIndptr).set(itemUsers.indptr);
  i32View(memory, layout.itemIndices).set(itemUsers.indices);
  f32View(memory, layout.itemData).set(itemUsers.data);
  return { memory, layout };
}

/** Zeroes every thread's Gram partial (before the gram tasks of a half-step). */
export function clearGramPartials(arena: MfArena): void {
  f64View(arena.memory, arena.layout.partials).fill(0);
}

/**
 * After the gram tasks: sums the thread partials (lower triangles), mirrors them and adds the ridge,
 * so that `gram` holds YᵀY + reg·I (stride × stride, padding zero) for the implicit solve tasks.
 */
export function finishGram(arena: MfArena, cfg: MfConfig): void {
  const { rank: k, stride: s, reg } = cfg;
  const partials = f64View(arena.memory, arena.layout.partials);
  const gram = f32View(arena.memory, arena.layout.gram);
  const slots = partials.length / (s * s);
  const sum = new Float64Array(s * s);
  for (let t = 0; t < slots; t++) {
    const base = t * s * s;
    for (let i = 0; i < k; i++) for (let j = 0; j <= i; j++) sum[i * s + j] += partials[base + i * s + j];
  }
  gram.fill(0);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < i; j++) gram[i * s + j] = gram[j * s + i] = sum[i * s + j];
    gram[i * s + i] = sum[i * s + i] + reg;
  }
}

// Rows per wasm Gram call: f32 accumulation over this many rows, then flushed into Float64.
const GRAM_BLOCK = 64;

/**
 * A task handler bound to one thread slot. Gram tasks add Σ yyᵀ over rows [start, end) of the fixed
 * side into this slot's `partials` (lower triangle); solve tasks overwrite rows [start, end) of the
 * solved side (the caller has put YᵀY + reg·I into `gram` for implicit).
 */
export function createMfKernel(
  memory: WasmMemory,
  layout: ArenaLayout<MfArenaKey>,
  cfg: MfConfig,
  threadIndex: number,
): (task: MfTask) => MfTaskResult {
  const simd = createSimdKernels(memory);
  const { rank: k, stride: s, reg, alpha, cgSteps, nonnegative } = cfg;
  const len = s * 4;
  const f32 = new Float32Array(memory.buffer);
  const scratchBase = layout.scratch.offset + threadIndex * scratchFloats(s) * 4;
  const rPtr = scratchBase, pPtr = rPtr + len, apPtr = pPtr + len, blockPtr = apPtr + len;
  const block = new Float32Array(memory.buffer, blockPtr, s * s);
  const partial = f64View(memory, layout.partials).subarray(threadIndex * s * s, (threadIndex + 1) * s * s);
  const ws = createSolveWorkspace(k);

  const sides = {
    users: {
      solved: layout.userFactors, fixed: layout.itemFactors,
      indptr: i32View(memory, layout.userIndptr), indices: layout.userIndices, data: layout.userData,
    },
    items: {
      solved: layout.itemFactors, fixed: layout.userFactors,
      indptr: i32View(memory, layout.itemIndptr), indices: layout.itemIndices, data: layout.itemData,
    },
  };
  const indicesOf = { users: i32View(memory, layout.userIndices), items: i32View(memory, layout.itemIndices) };
  const dataOf = { users: f32View(memory, layout.userData), items: f32View(memory, layout.itemData) };

  function gram(side: Side, start: number, end: number): void {
    const fixedPtr = sides[side].fixed.offset;
    for (let r0 = start; r0 < end; r0 += GRAM_BLOCK) {
      const m = Math.min(GRAM_BLOCK, end - r0);
      simd.gramRows(fixedPtr + r0 * len, 0, m, len, blockPtr);
      for (let i = 0; i < k; i++) {
        const row = i * s;
        for (let j = 0; j <= i; j++) partial[row + j] += block[row + j];
      }
    }
  }

  function solveExplicit(side: Side, start: number, end: number): number {
    const { solved, fixed, indptr, indices } = sides[side];
    const idx = indicesOf[side];
    const vals = dataOf[side];
    const xBase = solved.offset >> 2;
    const yBase = fixed.offset >> 2;
    const { a, b, x } = ws;
    let sse = 0;
    for (let u = start; u < end; u++) {
      const p0 = indptr[u], p1 = indptr[u + 1], n = p1 - p0;
      const xo = xBase + u * s;
      if (n === 0) {
        f32.fill(0, xo, xo + s);
        continue;
      }
      a.fill(0);
      for (let q0 = p0; q0 < p1; q0 += GRAM_BLOCK) {
        const m = Math.min(GRAM_BLOCK, p1 - q0);
        simd.gramIndexed(fixed.offset, indices.offset + q0 * 4, m, len, blockPtr);
        for (let i = 0; i < k; i++) {
          const row = i * s, arow = i * k;
          for (let j = 0; j <= i; j++) a[arow + j] += block[row + j];
        }
      }
      b.fill(0);
      for (let q = p0; q < p1; q++) {
        const r = vals[q];
        const yo = yBase + idx[q] * s;
        for (let i = 0; i < k; i++) b[i] += r * f32[yo + i];
      }
      // ALS-WR: the ridge grows with the row's number of ratings (Spark: regParam·numExplicits).
      const ridge = reg * n;
      for (let i = 0; i < k; i++) a[i * k + i] += ridge;
      solveNormalEquations(ws, nonnegative);
      for (let i = 0; i < k; i++) f32[xo + i] = x[i];
      if (side === 'users') {
        for (let q = p0; q < p1; q++) {
          const yo = yBase + idx[q] * s;
          let dot = 0;
          for (let i = 0; i < k; i++) dot += f32[xo + i] * f32[yo + i];
          const e = vals[q] - dot;
          sse += e * e;
        }
      }
    }
    return sse;
  }

  // Conjugate gradient on (YᵀY + reg·I + Σ α|r| y yᵀ) x = Σ [r>0](1 + α|r|) y, warm-started from
  // the current row (Takács, Pilászy & Tikk 2011; `least_squares_cg` of the implicit library).
  function solveImplicit(side: Side, start: number, end: number): void {
    const { solved, fixed, indptr, indices, data } = sides[side];
    const gramPtr = layout.gram.offset;
    const xBase = solved.offset >> 2;
    const rIdx = rPtr >> 2, pIdx = pPtr >> 2;
    for (let u = start; u < end; u++) {
      const p0 = indptr[u], n = indptr[u + 1] - p0;
      const xPtr = solved.offset + u * len;
      if (n === 0) {
        // With no interaction the exact solution is 0.
        f32.fill(0, xBase + u * s, xBase + (u + 1) * s);
        continue;
      }
      const idxPtr = indices.offset + p0 * 4, dataPtr = data.offset + p0 * 4;
      simd.matVec(gramPtr, xPtr, rPtr, len);
      simd.scale(rPtr, -1, len);
      simd.passInit(fixed.offset, idxPtr, dataPtr, n, len, xPtr, rPtr, alpha);
      f32.copyWithin(pIdx, rIdx, rIdx + s);
      let rsOld = simd.dot(rPtr, rPtr, len);
      if (rsOld < 1e-20) continue;
      for (let step = 0; step < cgSteps; step++) {
        simd.matVec(gramPtr, pPtr, apPtr, len);
        simd.passStep(fixed.offset, idxPtr, dataPtr, n, len, pPtr, apPtr, alpha);
        const pAp = simd.dot(pPtr, apPtr, len);
        if (!(pAp > 0)) break;
        const rsNew = simd.cgUpdate(xPtr, rPtr, pPtr, apPtr, rsOld / pAp, len);
        if (rsNew < 1e-20) break;
        simd.xpay(pPtr, rPtr, rsNew / rsOld, len);
        rsOld = rsNew;
      }
    }
  }

  return (task) => {
    if (task.op === 'gram') {
      gram(task.side, task.start, task.end);
      return { sse: 0 };
    }
    if (cfg.kind === 'als') return { sse: solveExplicit(task.side, task.start, task.end) };
    solveImplicit(task.side, task.start, task.end);
    return { sse: 0 };
  };
}
