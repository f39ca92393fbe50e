/**
 * @module Numeric kernels of the dense symmetric positive-definite inverse (math/dense-inverse.ts).
 * Every kernel works in place on one row-major n×n Float64Array and is written so that its inner
 * loop is a dot product over two contiguous row segments, with 4 rows × 2 columns of register
 * blocking (8 accumulators, 6 loads per 8 multiply-adds). The same code runs in the calling thread
 * and in workers (math/dense-inverse-worker.ts), so this file imports nothing but a type: a worker
 * loads it without pulling in the rest of rtrec. When the matrix lives in WebAssembly memory the
 * 4×2 loop runs as wasm SIMD (math/dense-inverse-wasm.ts), else in JavaScript.
 *
 * Method (LAPACK potrf + trtri + lauum, rearranged for row-major dot products), A = L·Lᵀ:
 * 1. Cholesky, blocked right-looking: for each block column [k0,k1) factor the diagonal block,
 *    solve the panel below it, subtract the panel's outer product from the trailing matrix.
 *    L (with its diagonal) ends in the lower triangle; the diagonal is then copied to `lDiag`.
 * 2. Y = L⁻ᵀ (upper triangular) row by row from Y·Lᵀ = I:
 *    Y_ii = 1/L_ii,  Y_ij = −(Σ_{i≤k<j} Y_ik·L_jk) / L_jj  (j > i). Rows are independent.
 *    Y goes to the upper triangle and diagonal (L's strictly-lower part is still read).
 * 3. A⁻¹ = L⁻ᵀ·L⁻¹ = Y·Yᵀ:  P_ij = Σ_{k≥j} Y_ik·Y_jk  (j ≥ i). Written to the strictly lower
 *    triangle (L is no longer needed) and `pDiag`, then mirrored to the upper triangle.
 * Cost n³/2 multiply-adds in total (n³/6 per step). Work is cut into units of PANEL rows that
 * threads claim from a shared atomic counter, so a slower (or busier) core simply takes fewer.
 */

import type { Dots4x2 } from './dense-inverse-wasm.js';

/** Bumped whenever a kernel or the region protocol changes, so a stale compiled worker is refused. */
export const KERNEL_VERSION = 7;

/** Rows sharing one register-blocked dot-product loop. */
export const GROUP = 4;

/**
 * Rows per work unit (8 groups). Inside a unit the loop over columns j is outermost, so the one or
 * two rows j being read stay in L1 while all groups of the unit use them; without this, steps 2 and 3
 * re-read the whole triangle from memory for every group and run at memory speed for n in the 1000s.
 */
export const PANEL = 32;

/** Block size of the Cholesky step: trailing updates are dot products of this length. */
export const CHOLESKY_BLOCK = 256;

/** Shared state of one inversion; every thread holds views on the same buffers. */
export interface DenseContext {
  /** Row-major n×n matrix being inverted in place. */
  readonly a: Float64Array;
  readonly n: number;
  /** Diagonal of L (length n), saved before step 2 overwrites it. */
  readonly lDiag: Float64Array;
  /** Diagonal of A⁻¹ (length n), kept apart during step 3 because the diagonal still holds Y. */
  readonly pDiag: Float64Array;
  /** [0]: the next unit index to claim; [1]: non-zero once the inversion is cancelled. */
  readonly counter: Int32Array;
  /** Per-thread scratch of PANEL×n values for step 2; allocated on first use unless given. */
  scratch?: Float64Array;
  /** Per-thread wasm kernel; then `a` and `scratch` must be views on the memory it was built on. */
  wasm?: WasmKernel;
}

export interface WasmKernel {
  readonly dots: Dots4x2;
  /** The 8 results of `dots`: a view on the wasm memory, private to this thread. */
  readonly acc: Float64Array;
}

/** One parallel region: every thread runs it until the counter passes the last unit. */
export type Region =
  | { readonly op: 'panel'; readonly k0: number; readonly k1: number }
  | { readonly op: 'trailing'; readonly k0: number; readonly k1: number }
  | { readonly op: 'save-diagonal' }
  | { readonly op: 'inverse-factor' }
  | { readonly op: 'product' }
  | { readonly op: 'mirror' };

/**
 * Claims units of `region` until none is left, the inversion is cancelled, or (checked between
 * units) `deadline` (a performance.now() time) has passed. Safe to call from several threads at
 * once, and again after a deadline to go on. Returns false only when stopped by the deadline.
 */
export function runRegion(ctx: DenseContext, region: Region, deadline = Infinity): boolean {
  const { a, n } = ctx;
  wasmDots = ctx.wasm?.dots ?? null;
  ACC = ctx.wasm?.acc ?? JS_ACC;
  switch (region.op) {
    case 'panel': {
      const { k0, k1 } = region;
      return forEachUnit(ctx, k1, n, false, (p0, p1) => panelSolve(a, n, k0, k1, p0, p1), deadline);
    }
    case 'trailing': {
      const { k0, k1 } = region;
      // Descending: the longest rows go first so the last claims are the short ones.
      return forEachUnit(ctx, k1, n, true, (p0, p1) => trailingUpdate(a, n, k0, k1, p0, p1), deadline);
    }
    case 'save-diagonal':
      return forEachUnit(ctx, 0, n, false, (p0, p1) => {
        for (let i = p0; i < p1; i++) ctx.lDiag[i] = a[i * n + i];
      }, deadline);
    case 'inverse-factor':
      return forEachUnit(ctx, 0, n, false, (p0, p1) => inverseFactor(ctx, p0, p1), deadline);
    case 'product':
      return forEachUnit(ctx, 0, n, false, (p0, p1) => product(ctx, p0, p1), deadline);
    case 'mirror':
      return forEachUnit(ctx, 0, n, false, (p0, p1) => mirror(ctx, p0, p1), deadline);
  }
}

function forEachUnit(
  ctx: DenseContext,
  from: number,
  to: number,
  descending: boolean,
  body: (p0: number, p1: number) => void,
  deadline: number,
): boolean {
  const units = Math.ceil((to - from) / PANEL);
  for (;;) {
    if (Atomics.load(ctx.counter, 1) !== 0) return true;
    if (deadline !== Infinity && performance.now() > deadline) return false;
    const claimed = Atomics.add(ctx.counter, 0, 1);
    if (claimed >= units) return true;
    const u = descending ? units - 1 - claimed : claimed;
    const p0 = from + u * PANEL;
    body(p0, Math.min(p0 + PANEL, to));
  }
}

// Kernel state of this thread (each worker has its own copy of this module), set by runRegion.
const JS_ACC = new Float64Array(2 * GROUP);
let ACC: Float64Array = JS_ACC;
let wasmDots: Dots4x2 | null = null;

/**
 * ACC[2r + c] = Σ_{k0≤k<k1} x[x0 + r·xs + k] · b[qc + k] for rows r = 0..3 and columns c = 0, 1
 * (q0, q1 the offsets of the two b rows). The one hot loop of the whole inverse.
 */
function dots4x2(
  x: Float64Array, x0: number, xs: number,
  b: Float64Array, q0: number, q1: number,
  k0: number, k1: number,
): void {
  if (wasmDots) {
    // Byte addresses; the wasm loop takes pairs of terms, an odd last term is added here.
    const even = (k1 - k0) & ~1;
    const bBase = b.byteOffset + 8 * k0;
    wasmDots(x.byteOffset + 8 * (x0 + k0), 8 * xs, bBase + 8 * q0, bBase + 8 * q1, 8 * even, ACC.byteOffset);
    if (k0 + even < k1) {
      const k = k1 - 1;
      const b0 = b[q0 + k], b1 = b[q1 + k];
      for (let r = 0; r < GROUP; r++) {
        const v = x[x0 + r * xs + k];
        ACC[2 * r] += v * b0;
        ACC[2 * r + 1] += v * b1;
      }
    }
    return;
  }
  const r0 = x0, r1 = r0 + xs, r2 = r1 + xs, r3 = r2 + xs;
  let s00 = 0, s01 = 0, s10 = 0, s11 = 0, s20 = 0, s21 = 0, s30 = 0, s31 = 0;
  for (let k = k0; k < k1; k++) {
    const b0 = b[q0 + k], b1 = b[q1 + k];
    const v0 = x[r0 + k], v1 = x[r1 + k], v2 = x[r2 + k], v3 = x[r3 + k];
    s00 += v0 * b0; s01 += v0 * b1;
    s10 += v1 * b0; s11 += v1 * b1;
    s20 += v2 * b0; s21 += v2 * b1;
    s30 += v3 * b0; s31 += v3 * b1;
  }
  ACC[0] = s00; ACC[1] = s01; ACC[2] = s10; ACC[3] = s11;
  ACC[4] = s20; ACC[5] = s21; ACC[6] = s30; ACC[7] = s31;
}

/** Σ_{k0≤k<k1} x[xo + k] · b[bo + k]. */
function dot(x: Float64Array, xo: number, b: Float64Array, bo: number, k0: number, k1: number): number {
  let s = 0;
  for (let k = k0; k < k1; k++) s += x[xo + k] * b[bo + k];
  return s;
}

/**
 * Factors the diagonal block [k0,k1) after all earlier trailing updates (serial, small).
 * @returns -1 on success, else the row whose pivot was not positive (A is not positive definite).
 */
export function factorDiagonalBlock(a: Float64Array, n: number, k0: number, k1: number): number {
  for (let i = k0; i < k1; i++) {
    const ri = i * n;
    for (let j = k0; j <= i; j++) {
      const rj = j * n;
      let s = a[ri + j];
      for (let m = k0; m < j; m++) s -= a[ri + m] * a[rj + m];
      if (j < i) {
        a[ri + j] = s / a[rj + j];
      } else {
        if (!(s > 0)) return i;
        a[ri + i] = Math.sqrt(s);
      }
    }
  }
  return -1;
}

/** Panel solve: L_ij = (A_ij − Σ_{k0≤m<j} L_im·L_jm) / L_jj for rows [p0,p1) and j in [k0,k1). */
function panelSolve(a: Float64Array, n: number, k0: number, k1: number, p0: number, p1: number): void {
  let j = k0;
  for (; j + 1 < k1; j += 2) {
    const q0 = j * n, q1 = q0 + n;
    // Column j is final once its sum is known; it is the last term (m = j) of column j+1's sum.
    const inv0 = 1 / a[q0 + j], inv1 = 1 / a[q1 + j + 1], l = a[q1 + j];
    let i = p0;
    for (; i + GROUP <= p1; i += GROUP) {
      dots4x2(a, i * n, n, a, q0, q1, k0, j);
      for (let r = 0; r < GROUP; r++) {
        const ri = (i + r) * n;
        const y = (a[ri + j] - ACC[2 * r]) * inv0;
        a[ri + j] = y;
        a[ri + j + 1] = (a[ri + j + 1] - ACC[2 * r + 1] - y * l) * inv1;
      }
    }
    for (; i < p1; i++) {
      const ri = i * n;
      const y = (a[ri + j] - dot(a, ri, a, q0, k0, j)) * inv0;
      a[ri + j] = y;
      a[ri + j + 1] = (a[ri + j + 1] - dot(a, ri, a, q1, k0, j) - y * l) * inv1;
    }
  }
  if (j < k1) {
    const rj = j * n;
    for (let i = p0; i < p1; i++) {
      const ri = i * n;
      a[ri + j] = (a[ri + j] - dot(a, ri, a, rj, k0, j)) / a[rj + j];
    }
  }
}

/** Trailing update: A_ij −= Σ_{k0≤m<k1} L_im·L_jm for rows i in [p0,p1), columns k1 ≤ j ≤ i. */
function trailingUpdate(a: Float64Array, n: number, k0: number, k1: number, p0: number, p1: number): void {
  // Columns left of the unit are below the diagonal of all its rows.
  let j = k1;
  for (; j + 1 < p0; j += 2) {
    const q0 = j * n, q1 = q0 + n;
    let i = p0;
    for (; i + GROUP <= p1; i += GROUP) {
      dots4x2(a, i * n, n, a, q0, q1, k0, k1);
      for (let r = 0; r < GROUP; r++) {
        const ri = (i + r) * n;
        a[ri + j] -= ACC[2 * r];
        a[ri + j + 1] -= ACC[2 * r + 1];
      }
    }
    for (; i < p1; i++) {
      const ri = i * n;
      a[ri + j] -= dot(a, ri, a, q0, k0, k1);
      a[ri + j + 1] -= dot(a, ri, a, q1, k0, k1);
    }
  }
  // The odd column left, then the unit's own triangle.
  for (let i = p0; i < p1; i++) {
    const ri = i * n;
    for (let c = j; c <= i; c++) a[ri + c] -= dot(a, ri, a, c * n, k0, k1);
  }
}

/**
 * Step 2 for rows [p0,p1): rows of Y = L⁻ᵀ. They are built in scratch, zero left of their diagonal,
 * so all rows share dot products over [p0, j); then copied to the upper triangle.
 */
function inverseFactor(ctx: DenseContext, p0: number, p1: number): void {
  const { a, n, lDiag } = ctx;
  if (!ctx.scratch || ctx.scratch.length < PANEL * n) {
    // With wasm the scratch must live in wasm memory, so its caller provides it.
    if (ctx.wasm) throw new Error(`dense-inverse: wasm thread without a scratch of ${PANEL}×${n}`);
    ctx.scratch = new Float64Array(PANEL * n);
  }
  const s = ctx.scratch;
  const rows = p1 - p0;
  for (let r = 0; r < rows; r++) s.fill(0, r * n + p0, r * n + n);
  // The unit's own triangle: row p0 + r starts at its diagonal.
  for (let j = p0; j < p1; j++) {
    const rj = j * n;
    for (let r = 0; r < j - p0; r++) s[r * n + j] = -dot(s, r * n, a, rj, p0, j) / lDiag[j];
    s[(j - p0) * n + j] = 1 / lDiag[j];
  }
  let j = p1;
  for (; j + 1 < n; j += 2) {
    const q0 = j * n, q1 = q0 + n;
    // Column j is final once its sum is known; it is the last term (k = j) of column j+1's sum.
    const inv0 = 1 / lDiag[j], inv1 = 1 / lDiag[j + 1], l = a[q1 + j];
    let r = 0;
    for (; r + GROUP <= rows; r += GROUP) {
      dots4x2(s, r * n, n, a, q0, q1, p0, j);
      for (let t = 0; t < GROUP; t++) {
        const o = (r + t) * n;
        const y = -ACC[2 * t] * inv0;
        s[o + j] = y;
        s[o + j + 1] = -(ACC[2 * t + 1] + y * l) * inv1;
      }
    }
    for (; r < rows; r++) {
      const o = r * n;
      const y = -dot(s, o, a, q0, p0, j) * inv0;
      s[o + j] = y;
      s[o + j + 1] = -(dot(s, o, a, q1, p0, j) + y * l) * inv1;
    }
  }
  if (j < n) {
    for (let r = 0; r < rows; r++) s[r * n + j] = -dot(s, r * n, a, j * n, p0, j) / lDiag[j];
  }
  for (let r = 0; r < rows; r++) {
    const i = p0 + r;
    a.set(s.subarray(r * n + i, r * n + n), i * n + i);
  }
}

/** Step 3 for rows [p0,p1): P_ij = Σ_{k≥j} Y_ik·Y_jk for j ≥ i; P_ij goes to a[j][i], P_ii to pDiag. */
function product(ctx: DenseContext, p0: number, p1: number): void {
  const { a, n, pDiag } = ctx;
  for (let j = p0; j < p1; j++) {
    const rj = j * n;
    for (let i = p0; i < j; i++) a[rj + i] = dot(a, i * n, a, rj, j, n);
    pDiag[j] = dot(a, rj, a, rj, j, n);
  }
  let j = p1;
  for (; j + 1 < n; j += 2) {
    const q0 = j * n, q1 = q0 + n;
    // Column j's sum also has the k = j term (with Y_jj); column j+1's starts at k = j+1.
    const d = a[q0 + j];
    let i = p0;
    for (; i + GROUP <= p1; i += GROUP) {
      dots4x2(a, i * n, n, a, q0, q1, j + 1, n);
      for (let t = 0; t < GROUP; t++) {
        a[q0 + i + t] = ACC[2 * t] + a[(i + t) * n + j] * d;
        a[q1 + i + t] = ACC[2 * t + 1];
      }
    }
    for (; i < p1; i++) {
      const ri = i * n;
      a[q0 + i] = dot(a, ri, a, q0, j, n);
      a[q1 + i] = dot(a, ri, a, q1, j + 1, n);
    }
  }
  if (j < n) {
    const rj = j * n;
    for (let i = p0; i < p1; i++) a[rj + i] = dot(a, i * n, a, rj, j, n);
  }
}

/** Final step for rows [p0,p1): diagonal from pDiag, upper triangle mirrored from the lower one. */
function mirror(ctx: DenseContext, p0: number, p1: number): void {
  const { a, n, pDiag } = ctx;
  for (let i = p0; i < p1; i++) a[i * n + i] = pDiag[i];
  // Walk j outermost so each read of a[j][p0..p1) is one contiguous run.
  for (let j = p0 + 1; j < n; j++) {
    const rj = j * n;
    const last = Math.min(p1, j);
    for (let i = p0; i < last; i++) a[i * n + j] = a[rj + i];
  }
}
