/**
 * @module Non-negative least squares on normal equations (Lawson & Hanson 1974, active-set, in the
 * form of Bro & De Jong 1997 that works from AᵀA and Aᵀb): minimise ½xᵀAx − bᵀx subject to x ≥ 0 for
 * a symmetric positive-definite A. Used for ALS with `nonnegative: true`, as Spark's NNLS solver.
 */
import { choleskyFactor, choleskySolve } from './cholesky.js';

export interface NnlsWorkspace {
  readonly n: number;
  readonly sub: Float64Array;
  readonly rhs: Float64Array;
  readonly s: Float64Array;
  readonly w: Float64Array;
  readonly passive: Uint8Array;
  readonly members: Int32Array;
}

export function createNnlsWorkspace(n: number): NnlsWorkspace {
  return {
    n,
    sub: new Float64Array(n * n),
    rhs: new Float64Array(n),
    s: new Float64Array(n),
    w: new Float64Array(n),
    passive: new Uint8Array(n),
    members: new Int32Array(n),
  };
}

/**
 * Writes into `out` (length n) the x ≥ 0 minimising ½xᵀAx − bᵀx. `a` is the full symmetric row-major
 * n×n matrix (positive definite); `a` and `b` are not modified.
 */
export function nnlsSolve(a: Float64Array, n: number, b: Float64Array, out: Float64Array, ws: NnlsWorkspace): void {
  const { sub, rhs, s, w, passive, members } = ws;
  let bMax = 0;
  for (let i = 0; i < n; i++) bMax = Math.max(bMax, Math.abs(b[i]));
  const tol = 1e-12 * Math.max(1, bMax);
  out.fill(0, 0, n);
  passive.fill(0, 0, n);
  // Each outer step adds one variable; a variable can leave and come back, so allow a few rounds.
  for (let outer = 0; outer < 3 * n + 10; outer++) {
    // w = b − A·x: the negative gradient; a zero variable with w > 0 would decrease the objective.
    let best = -1;
    let bestW = tol;
    for (let i = 0; i < n; i++) {
      if (passive[i]) continue;
      let g = b[i];
      const row = i * n;
      for (let j = 0; j < n; j++) g -= a[row + j] * out[j];
      w[i] = g;
      if (g > bestW) {
        bestW = g;
        best = i;
      }
    }
    if (best < 0) return;
    passive[best] = 1;
    for (let inner = 0; inner < 3 * n + 10; inner++) {
      // Unconstrained solution on the passive set.
      let m = 0;
      for (let i = 0; i < n; i++) if (passive[i]) members[m++] = i;
      for (let p = 0; p < m; p++) {
        const row = members[p] * n;
        for (let q = 0; q <= p; q++) sub[p * m + q] = a[row + members[q]];
        rhs[p] = b[members[p]];
      }
      if (!choleskyFactor(sub, m)) return;
      choleskySolve(sub, m, rhs);
      s.fill(0, 0, n);
      let feasible = true;
      for (let p = 0; p < m; p++) {
        s[members[p]] = rhs[p];
        if (rhs[p] <= 0) feasible = false;
      }
      if (feasible) {
        out.set(s.subarray(0, n));
        break;
      }
      // Step from x towards s as far as feasibility allows, then drop the variables that hit zero.
      let step = Infinity;
      for (let p = 0; p < m; p++) {
        const i = members[p];
        if (s[i] > 0) continue;
        const denom = out[i] - s[i];
        step = Math.min(step, denom > 0 ? out[i] / denom : 0);
      }
      for (let p = 0; p < m; p++) {
        const i = members[p];
        out[i] += step * (s[i] - out[i]);
        if (out[i] <= tol) {
          out[i] = 0;
          passive[i] = 0;
        }
      }
    }
  }
}
