/**
 * @module The two dense steps of EASE^R around the matrix inverse: the regularised item×item Gram
 * matrix G = XᵀX + λI built from the sparse user×item matrix, and the weights B read off P = G⁻¹.
 * See models/ease.ts for the model and the paper.
 */
import type { CsrMatrix } from '../core/csr.js';

/**
 * Writes the lower triangle and diagonal of G = XᵀX + λI into `out` (row-major cols×cols, assumed
 * zero on entry; the strictly upper triangle is left untouched). X_ui is 1 for every stored entry when
 * `binarize`, else the stored value. Sums the outer product of each user's row with itself, so the
 * cost is O(Σ_u n_u²) for n_u items of user u; columns within a CSR row are sorted, hence j ≤ i below.
 */
export function gramLowerInto(x: CsrMatrix, binarize: boolean, lambda: number, out: Float64Array): void {
  const n = x.cols;
  const { indptr, indices, data } = x;
  for (let u = 0; u < x.rows; u++) {
    const start = indptr[u], end = indptr[u + 1];
    for (let p = start; p < end; p++) {
      const row = indices[p] * n;
      if (binarize) {
        for (let q = start; q <= p; q++) out[row + indices[q]] += 1;
      } else {
        const xp = data[p];
        for (let q = start; q <= p; q++) out[row + indices[q]] += xp * data[q];
      }
    }
  }
  for (let i = 0; i < n; i++) out[i * n + i] += lambda;
}

/**
 * EASE^R's closed form: B_ij = −P_ij / P_jj for i ≠ j and B_ii = 0, i.e. B = I − P·diag(1/diag P),
 * from the symmetric inverse `p` (row-major n×n) into `out` (row-major n×n, Float32).
 */
export function easeWeightsInto(p: Float64Array, n: number, out: Float32Array): void {
  const negInvDiag = new Float64Array(n);
  for (let j = 0; j < n; j++) negInvDiag[j] = -1 / p[j * n + j];
  for (let i = 0; i < n; i++) {
    const row = i * n;
    for (let j = 0; j < n; j++) out[row + j] = p[row + j] * negInvDiag[j];
    out[row + i] = 0;
  }
}
