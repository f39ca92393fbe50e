/**
 * @module Compressed sparse rows: the user×item (and transposed item×user) matrices the trainers and
 * the seen-item filters walk. Row r's entries are indices/data[indptr[r] .. indptr[r+1]), columns sorted.
 */

export interface CsrMatrix {
  readonly rows: number;
  readonly cols: number;
  readonly indptr: Int32Array;
  readonly indices: Int32Array;
  readonly data: Float32Array;
}

export type DuplicatePolicy = 'sum' | 'last' | 'max';

/**
 * Builds a CSR matrix from coordinate triples. Duplicate (row, col) pairs are merged by `policy`
 * ('last' keeps the value of the latest triple in input order, as a re-rating overrides an old one).
 */
export function csrFromCoo(
  rows: number,
  cols: number,
  rowIdx: Int32Array,
  colIdx: Int32Array,
  values: Float32Array | null,
  policy: DuplicatePolicy = 'last',
): CsrMatrix {
  const n = rowIdx.length;
  const counts = new Int32Array(rows + 1);
  for (let i = 0; i < n; i++) counts[rowIdx[i] + 1]++;
  for (let r = 0; r < rows; r++) counts[r + 1] += counts[r];
  const cursor = counts.slice(0, rows);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[cursor[rowIdx[i]]++] = i;

  const indptr = new Int32Array(rows + 1);
  const indices = new Int32Array(n);
  const data = new Float32Array(n);
  let nnz = 0;
  const scratch: number[] = [];
  for (let r = 0; r < rows; r++) {
    indptr[r] = nnz;
    const start = counts[r], end = counts[r + 1];
    scratch.length = 0;
    for (let p = start; p < end; p++) scratch.push(order[p]);
    // Stable sort by column keeps input order among duplicates, which 'last' relies on.
    scratch.sort((a, b) => colIdx[a] - colIdx[b] || a - b);
    let prevCol = -1;
    for (const i of scratch) {
      const c = colIdx[i];
      const v = values ? values[i] : 1;
      if (c === prevCol) {
        const at = nnz - 1;
        data[at] = policy === 'sum' ? data[at] + v : policy === 'max' ? Math.max(data[at], v) : v;
      } else {
        indices[nnz] = c;
        data[nnz] = v;
        nnz++;
        prevCol = c;
      }
    }
  }
  indptr[rows] = nnz;
  return { rows, cols, indptr, indices: indices.slice(0, nnz), data: data.slice(0, nnz) };
}

export function transpose(m: CsrMatrix): CsrMatrix {
  const nnz = m.indptr[m.rows];
  const indptr = new Int32Array(m.cols + 1);
  for (let p = 0; p < nnz; p++) indptr[m.indices[p] + 1]++;
  for (let c = 0; c < m.cols; c++) indptr[c + 1] += indptr[c];
  const cursor = indptr.slice(0, m.cols);
  const indices = new Int32Array(nnz);
  const data = new Float32Array(nnz);
  for (let r = 0; r < m.rows; r++) {
    for (let p = m.indptr[r]; p < m.indptr[r + 1]; p++) {
      const at = cursor[m.indices[p]]++;
      indices[at] = r;
      data[at] = m.data[p];
    }
  }
  return { rows: m.cols, cols: m.rows, indptr, indices, data };
}

export function rowNnz(m: CsrMatrix, r: number): number {
  return m.indptr[r + 1] - m.indptr[r];
}

/** True when column `c` is stored in row `r` (binary search over the sorted row). */
export function hasEntry(m: CsrMatrix, r: number, c: number): boolean {
  let lo = m.indptr[r], hi = m.indptr[r + 1] - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = m.indices[mid];
    if (v === c) return true;
    if (v < c) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}
