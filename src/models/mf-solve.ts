/**
 * @module Single-row least-squares solves of matrix factorisation in Float64 on unpadded factors:
 * the normal equations of explicit ALS (ALS-WR) and of implicit ALS (Hu, Koren & Volinsky 2008),
 * solved exactly (Cholesky, or NNLS when non-negative). Used for fold-in of new interactions at
 * serving time and as the exact reference for the SIMD/CG training kernels.
 */
import { choleskyFactor, choleskySolve } from '../math/cholesky.js';
import { createFloat64Gram, type Float64Gram } from '../math/gram-f64.js';
import { createNnlsWorkspace, nnlsSolve, type NnlsWorkspace } from '../math/nnls.js';

export interface SolveWorkspace {
  readonly rank: number;
  readonly a: Float64Array;
  readonly backup: Float64Array;
  readonly b: Float64Array;
  readonly x: Float64Array;
  nnls: NnlsWorkspace | null;
  /** The row's factors gathered column by column (rank columns of `stride` entries), see addGatheredGram. */
  gathered: Float64Array;
  stride: number;
  /** The WebAssembly Gram kernel `gathered` lives in (null: the JavaScript loop), made on first use. */
  gram: Float64Gram | null | undefined;
}

/** `simd: false` keeps the Gram sums in JavaScript (the reference the kernel is tested against). */
export function createSolveWorkspace(rank: number, options: { simd?: boolean } = {}): SolveWorkspace {
  return {
    rank,
    a: new Float64Array(rank * rank),
    backup: new Float64Array(rank * rank),
    b: new Float64Array(rank),
    x: new Float64Array(rank),
    nnls: null,
    gathered: new Float64Array(0),
    stride: 0,
    gram: options.simd === false ? null : undefined,
  };
}

/** Makes room to gather `entries` factor rows. */
function reserveGathered(ws: SolveWorkspace, entries: number): void {
  if (entries <= ws.stride) return;
  ws.stride = Math.max(64, 2 ** Math.ceil(Math.log2(entries)));
  if (ws.gram === undefined) ws.gram = createFloat64Gram();
  ws.gathered = ws.gram ? ws.gram.reserve(ws.rank, ws.stride) : new Float64Array(ws.rank * ws.stride);
}

/**
 * Adds Σ_q g_q·g_qᵀ to the lower triangle of ws.a, over the `count` rows g_q gathered in
 * ws.gathered (entry q of column i at i·stride + q). The rows are gathered first, rather than
 * adding each y·yᵀ as it is read, so that each sum runs over contiguous memory and four of them share
 * their loads (2×2 blocks): at rank 32 and 50 entries this takes the Gram part of a fold-in from ~64
 * to ~28 µs (Node 20). The fold-in is the largest computation of a real-time event (~20% of a
 * server's CPU while ingesting, profiled on a 50k-item catalogue). Where WebAssembly SIMD is
 * available, ws.gram (math/gram-f64.ts) does the same sums two lanes at a time, and this loop is
 * its reference.
 */
function addGatheredGram(ws: SolveWorkspace, count: number): void {
  if (ws.gram) {
    ws.gram.addTo(ws.a, ws.rank, ws.stride, count);
    return;
  }
  const { rank: k, a, gathered: g, stride } = ws;
  for (let i = 0; i < k; i += 2) {
    const ci = i * stride;
    // With an odd rank the last block's second row is past the end: it reads column i again and its sums are dropped.
    const ci1 = i + 1 < k ? ci + stride : ci;
    for (let j = 0; j <= i; j += 2) {
      const cj = j * stride;
      const cj1 = j + 1 < k ? cj + stride : cj;
      let s00 = 0, s01 = 0, s10 = 0, s11 = 0;
      for (let q = 0; q < count; q++) {
        const x0 = g[ci + q], x1 = g[ci1 + q], y0 = g[cj + q], y1 = g[cj1 + q];
        s00 += x0 * y0;
        s01 += x0 * y1;
        s10 += x1 * y0;
        s11 += x1 * y1;
      }
      a[i * k + j] += s00;
      if (j < i) a[i * k + j + 1] += s01;
      if (i + 1 < k) {
        a[(i + 1) * k + j] += s10;
        a[(i + 1) * k + j + 1] += s11;
      }
    }
  }
}

/**
 * Solves ws.a·x = ws.b into ws.x, where ws.a (rank×rank, lower triangle filled, regularisation
 * already on the diagonal) is symmetric positive definite; x ≥ 0 by NNLS when `nonnegative`. A matrix
 * that is numerically singular (possible only with zero regularisation) gets a tiny ridge added.
 * ws.a is destroyed.
 */
export function solveNormalEquations(ws: SolveWorkspace, nonnegative: boolean): void {
  const { rank: k, a, backup, b, x } = ws;
  if (nonnegative) {
    for (let i = 0; i < k; i++) for (let j = 0; j < i; j++) a[j * k + i] = a[i * k + j];
    ws.nnls ??= createNnlsWorkspace(k);
    nnlsSolve(a, k, b, x, ws.nnls);
    return;
  }
  backup.set(a);
  let ridge = 0;
  for (let i = 0; i < k; i++) ridge += Math.abs(a[i * k + i]);
  ridge = (ridge / k) * 1e-10 + 1e-12;
  for (let attempt = 0; !choleskyFactor(a, k); attempt++) {
    if (attempt > 20) {
      x.fill(0);
      return;
    }
    a.set(backup);
    for (let i = 0; i < k; i++) a[i * k + i] += ridge;
    ridge *= 100;
  }
  x.set(b);
  choleskySolve(a, k, x);
}

/**
 * Explicit ALS half-step for one row (Spark `ALS(implicitPrefs=false)`): minimises
 * Σ_q (r_q − xᵀy_q)² + reg·n·‖x‖² over the n entries with a finite value, y_q = fixed[items[q]]
 * (rows of `fixed`, row-major [· × rank]). Writes x into ws.x; x = 0 when there is no entry.
 */
export function solveExplicitRow(
  fixed: Float32Array,
  rank: number,
  items: ArrayLike<number>,
  values: ArrayLike<number>,
  reg: number,
  nonnegative: boolean,
  ws: SolveWorkspace,
): void {
  const { a, b } = ws;
  const k = rank;
  a.fill(0);
  b.fill(0);
  reserveGathered(ws, items.length);
  const { gathered, stride } = ws;
  let n = 0;
  const numRows = fixed.length / k;
  for (let q = 0; q < items.length; q++) {
    const item = items[q];
    const r = values[q];
    if (!(item >= 0 && item < numRows) || !Number.isFinite(r)) continue;
    const o = item * k;
    for (let i = 0; i < k; i++) {
      const yi = fixed[o + i];
      b[i] += r * yi;
      gathered[i * stride + n] = yi;
    }
    n++;
  }
  addGatheredGram(ws, n);
  if (n === 0) {
    ws.x.fill(0);
    return;
  }
  for (let i = 0; i < k; i++) a[i * k + i] += reg * n;
  solveNormalEquations(ws, nonnegative);
}

/**
 * Implicit ALS half-step for one row, exact: minimises Σ_all c (p − xᵀy)² + reg·‖x‖² where entry q
 * has confidence c = 1 + α|r_q| and preference p = [r_q > 0]; items not listed have c = 1, p = 0.
 * `gram` is YᵀY over all rows of `fixed` (rank×rank, full, without regularisation).
 */
export function solveImplicitRow(
  fixed: Float32Array,
  rank: number,
  gram: Float64Array,
  items: ArrayLike<number>,
  values: ArrayLike<number>,
  reg: number,
  alpha: number,
  ws: SolveWorkspace,
): void {
  const { a, b } = ws;
  const k = rank;
  a.set(gram);
  b.fill(0);
  reserveGathered(ws, items.length);
  const { gathered, stride } = ws;
  const numRows = fixed.length / k;
  let n = 0;
  for (let q = 0; q < items.length; q++) {
    const item = items[q];
    const r = values[q];
    if (!(item >= 0 && item < numRows) || !Number.isFinite(r) || r === 0) continue;
    const c1 = alpha * Math.abs(r);
    const bw = r > 0 ? 1 + c1 : 0;
    // c1·y·yᵀ = (√c1·y)(√c1·y)ᵀ: gathered scaled, summed by addGatheredGram.
    const scale = Math.sqrt(c1);
    const o = item * k;
    for (let i = 0; i < k; i++) {
      const yi = fixed[o + i];
      b[i] += bw * yi;
      gathered[i * stride + n] = scale * yi;
    }
    n++;
  }
  addGatheredGram(ws, n);
  if (n === 0) {
    ws.x.fill(0);
    return;
  }
  for (let i = 0; i < k; i++) a[i * k + i] += reg;
  solveNormalEquations(ws, false);
}

/** YᵀY (rank×rank, full, Float64) over all rows of `factors` (row-major [· × rank]). */
export function gramMatrix(factors: Float32Array, rank: number, out: Float64Array): void {
  const k = rank;
  out.fill(0);
  const rows = factors.length / k;
  for (let r = 0; r < rows; r++) {
    const o = r * k;
    for (let i = 0; i < k; i++) {
      const yi = factors[o + i];
      if (yi === 0) continue;
      const row = i * k;
      for (let j = 0; j <= i; j++) out[row + j] += yi * factors[o + j];
    }
  }
  for (let i = 0; i < k; i++) for (let j = 0; j < i; j++) out[j * k + i] = out[i * k + j];
}
