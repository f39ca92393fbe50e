/**
 * @module Dense Cholesky factorisation and solve for the small symmetric positive-definite systems of
 * least-squares half-steps (rank × rank, rank ≤ a few hundred), in Float64, in place, no allocation.
 */

/**
 * Factors the row-major n×n matrix `a` (only its lower triangle is read) into L·Lᵀ, writing L over
 * the lower triangle. Returns false, leaving `a` partly overwritten, when `a` is not positive definite.
 *
 * Column by column (left-looking): L[i][j] = (A[i][j] − Σ_{p<j} L[i][p]·L[j][p]) / L[j][j]. The rows
 * below the diagonal are done four at a time so that the four sums share each load of L[j][p]: at
 * rank 32 this takes a factorisation from ~13 to ~7.5 µs (Node 20), and a rank-32 fold-in solves one
 * per real-time event. Each sum still runs over p in ascending order, so L is bit for bit what the
 * one-row-at-a-time loop (math/reference.ts choleskyFactorReference) computes.
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
    let i = j + 1;
    for (; i + 3 < n; i += 4) {
      const r0 = i * n;
      const r1 = r0 + n;
      const r2 = r1 + n;
      const r3 = r2 + n;
      let s0 = a[r0 + j], s1 = a[r1 + j], s2 = a[r2 + j], s3 = a[r3 + j];
      for (let p = 0; p < j; p++) {
        const ljp = a[rowJ + p];
        s0 -= a[r0 + p] * ljp;
        s1 -= a[r1 + p] * ljp;
        s2 -= a[r2 + p] * ljp;
        s3 -= a[r3 + p] * ljp;
      }
      a[r0 + j] = s0 * inv;
      a[r1 + j] = s1 * inv;
      a[r2 + j] = s2 * inv;
      a[r3 + j] = s3 * inv;
    }
    for (; i < n; i++) {
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
