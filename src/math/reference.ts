/**
 * @module Slow, obviously-correct oracles for tests of the numeric kernels: dense Gaussian
 * elimination, a textbook Cholesky factorisation, random SPD test matrices and brute-force least-squares
 * objectives. Never used on a hot path.
 */

/**
 * Solves the dense n×n system a·x = b by Gaussian elimination with partial pivoting. Inputs are
 * not modified; returns x (NaN entries when a is singular).
 */
export function solveDense(a: ArrayLike<number>, n: number, b: ArrayLike<number>): Float64Array {
  const m = Float64Array.from({ length: n * n }, (_, i) => a[i]);
  const x = Float64Array.from({ length: n }, (_, i) => b[i]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r * n + col]) > Math.abs(m[pivot * n + col])) pivot = r;
    if (m[pivot * n + col] === 0) return new Float64Array(n).fill(NaN);
    if (pivot !== col) {
      for (let c = 0; c < n; c++) {
        const t = m[col * n + c];
        m[col * n + c] = m[pivot * n + c];
        m[pivot * n + c] = t;
      }
      const t = x[col];
      x[col] = x[pivot];
      x[pivot] = t;
    }
    for (let r = col + 1; r < n; r++) {
      const f = m[r * n + col] / m[col * n + col];
      if (f === 0) continue;
      for (let c = col; c < n; c++) m[r * n + c] -= f * m[col * n + c];
      x[r] -= f * x[col];
    }
  }
  for (let r = n - 1; r >= 0; r--) {
    let s = x[r];
    for (let c = r + 1; c < n; c++) s -= m[r * n + c] * x[c];
    x[r] = s / m[r * n + r];
  }
  return x;
}

/** ½xᵀAx − bᵀx for a dense row-major n×n A: the quadratic that normal equations minimise. */
export function quadraticObjective(a: ArrayLike<number>, n: number, b: ArrayLike<number>, x: ArrayLike<number>): number {
  let q = 0;
  for (let i = 0; i < n; i++) {
    let ax = 0;
    for (let j = 0; j < n; j++) ax += a[i * n + j] * x[j];
    q += 0.5 * x[i] * ax - b[i] * x[i];
  }
  return q;
}

/**
 * Cholesky factorisation L·Lᵀ of the row-major n×n matrix `a` (lower triangle read, L written over it),
 * one entry at a time: the textbook left-looking loop that math/cholesky.ts choleskyFactor unrolls.
 * Returns false when `a` is not positive definite.
 */
export function choleskyFactorReference(a: Float64Array, n: number): boolean {
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j];
    for (let p = 0; p < j; p++) d -= a[j * n + p] * a[j * n + p];
    if (!(d > 0)) return false;
    const ljj = Math.sqrt(d);
    a[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j];
      for (let p = 0; p < j; p++) s -= a[i * n + p] * a[j * n + p];
      a[i * n + j] = s * (1 / ljj);
    }
  }
  return true;
}

/**
 * A random symmetric positive-definite n×n matrix (row-major), M·Mᵀ + ridge·I with M's entries drawn
 * from `rng.normal()`: the test and benchmark input of the Cholesky kernels.
 */
export function randomSpdMatrix(n: number, rng: { normal(): number }, ridge: number): Float64Array {
  const m = Float64Array.from({ length: n * n }, () => rng.normal());
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < n; p++) s += m[i * n + p] * m[j * n + p];
      a[i * n + j] = s + (i === j ? ridge : 0);
    }
  }
  return a;
}
