/**
 * @module Row grouping for per-user / per-item splits: a stable counting sort of row indices by a
 * dense key (user or item index), so each group's rows are contiguous and in input order, plus the
 * in-group orderings the splitters need (seeded shuffle, stable sort by timestamp).
 */
import type { Rng } from '../core/rng.js';

/** Rows grouped by key: the rows of key k are `rows[offsets[k] .. offsets[k + 1])`, ascending within a group. */
export interface RowGroups {
  /** Length numKeys + 1; offsets[numKeys] = number of rows. */
  readonly offsets: Int32Array;
  /** A permutation of 0..n-1 (a fresh array the caller may reorder in place). */
  readonly rows: Int32Array;
}

/**
 * Groups row indices by `keys[row]` in O(n + numKeys).
 * @param keys dense key per row, each in [0, numKeys).
 */
export function groupRows(keys: Int32Array, numKeys: number): RowGroups {
  const n = keys.length;
  const offsets = new Int32Array(numKeys + 1);
  for (let i = 0; i < n; i++) offsets[keys[i] + 1]++;
  for (let k = 0; k < numKeys; k++) offsets[k + 1] += offsets[k];
  const next = offsets.slice(0, numKeys);
  const rows = new Int32Array(n);
  // Ascending i keeps each group in input order, which makes timestamp ties resolve by row order.
  for (let i = 0; i < n; i++) rows[next[keys[i]]++] = i;
  return { offsets, rows };
}

/** Shuffles every group's rows in place with `rng`, groups in key order (so a seed fixes the result). */
export function shuffleGroups(groups: RowGroups, rng: Rng): void {
  const { offsets, rows } = groups;
  for (let k = 0; k + 1 < offsets.length; k++) {
    if (offsets[k + 1] - offsets[k] > 1) rng.shuffle(rows.subarray(offsets[k], offsets[k + 1]));
  }
}

/**
 * Sorts every group's rows in place by timestamp, oldest first; equal timestamps keep input row
 * order (the row index is the tie-break, so the order does not depend on sort stability).
 * @param timestamp per row, any unit.
 */
export function sortGroupsByTime(groups: RowGroups, timestamp: Float64Array): void {
  const { offsets, rows } = groups;
  const byTime = (a: number, b: number): number => timestamp[a] - timestamp[b] || a - b;
  for (let k = 0; k + 1 < offsets.length; k++) {
    if (offsets[k + 1] - offsets[k] > 1) rows.subarray(offsets[k], offsets[k + 1]).sort(byTime);
  }
}

/** Appends row indices to a preallocated buffer; `toSortedArray()` returns them ascending. */
export class RowList {
  #rows: Int32Array;
  #length = 0;

  /** @param capacity the most rows that will be pushed. */
  constructor(capacity: number) {
    this.#rows = new Int32Array(capacity);
  }

  get length(): number {
    return this.#length;
  }

  push(row: number): void {
    this.#rows[this.#length++] = row;
  }

  /** The pushed rows in ascending order (a fresh array), so a split keeps the input's row order. */
  toSortedArray(): Int32Array {
    return this.#rows.slice(0, this.#length).sort();
  }
}
