/**
 * @module Single-row least-squares solves of matrix factorisation in Float64 on unpadded factors:
 * the normal equations of explicit ALS (ALS-WR) and of implicit ALS (Hu, Koren & Volinsky 2008),
 * solved exactly (Cholesky, or NNLS when non-negative). Used for fold-in of new interactions at
 * serving time and as the exact reference for the SIMD/CG training kernels.
 */
import { choleskyFactor, choleskySolve } from '../math/cholesky.js';
import { createNnlsWorkspace, nnlsSolve, type NnlsWorkspace } from '../math/nnls.js';

export interface SolveWorkspace {
  readonly rank: number;
  readonly a: Float64Array;
  readonly backup: Float64Array;
  readonly b: Float64Array;
  readonly x: Float64Array;
  nnls: NnlsWorkspace | null;
}

export function createSolveWorkspace(rank: number): SolveWorkspace {
  return {
    rank,
    a: new Float64Array(rank * rank),
    backup: new Float64Array(rank * rank),
    b: new Float64Array(rank),
    x: new Float64Array(rank),
    nnls: null,
  };
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
  let n = 0;
  const numRows = fixed.length / k;
  for (let q = 0; q < items.length; q++) {
    const item = items[q];
    const r = values[q];
    if (!(item >= 0 && item < numRows) || !Number.isFinite(r)) continue;
    n++;
    const o = item * k;
    for (let i = 0; i < k; i++) {
      const yi = fixed[o + i];
      b[i] += r * yi;
      const row = i * k;
      for (let j = 0; j <= i; j++) a[row + j] += yi * fixed[o + j];
    }
  }
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
  const numRows = fixed.length / k;
  let any = false;
  for (let q = 0; q < items.length; q++) {
    const item = items[q];
    const r = values[q];
    if (!(item >= 0 && item < numRows) || !Number.isFinite(r) || r === 0) continue;
    any = true;
    const c1 = alpha * Math.abs(r);
    const bw = r > 0 ? 1 + c1 : 0;
    const o = item * k;
    for (let i = 0; i < k; i++) {
      const yi = fixed[o + i];
      b[i] += bw * yi;
      const row = i * k;
      const w = c1 * yi;
      for (let j = 0; j <= i; j++) a[row + j] += w * fixed[o + j];
    }
  }
  if (!any) {
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
