/**
 * @module Dense Cholesky factorisation and solve for the small symmetric positive-definite systems of
 * least-squares half-steps (rank × rank, rank ≤ a few hundred), in Float64, in place, no allocation.
 */

/**
 * Factors the row-major n×n matrix `a` (only its lower triangle is read) into L·Lᵀ, writing L over
 * the lower triangle. Returns false, leaving `a` partly overwritten, when `a` is not positive definite.
 */
export function choleskyFactor(a: Float64Array, n: number): boolean {
  for (let j = 0; j < n; j++) {
    const rowJ = j * n;
    let d = a[rowJ + j];
    for (let p = 0; p < j; p++) d -= a[rowJ + p] * a[rowJ + p];
    if (!(d > 0)) return false;
    const ljj = Math.sqrt(d);
    a[rowJ + j] = ljj;
    const inv = 1 / ljj;
    for (let i = j + 1; i < n; i++) {
      const rowI = i * n;
      let s = a[rowI + j];
      for (let p = 0; p < j; p++) s -= a[rowI + p] * a[rowJ + p];
      a[rowI + j] = s * inv;
    }
  }
  return true;
}

/** Solves L·Lᵀ·x = b for the factor from choleskyFactor; `b` is overwritten with x. */
export function choleskySolve(l: Float64Array, n: number, b: Float64Array): void {
  for (let i = 0; i < n; i++) {
    const row = i * n;
    let s = b[i];
    for (let p = 0; p < i; p++) s -= l[row + p] * b[p];
    b[i] = s / l[row + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i];
    for (let p = i + 1; p < n; p++) s -= l[p * n + i] * b[p];
    b[i] = s / l[i * n + i];
  }
}
