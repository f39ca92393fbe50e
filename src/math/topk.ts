/**
 * @module Top-k selection over a dense score vector with a bounded min-heap: O(n log k), no
 * allocation besides the heap and the result. Ties break towards the lower index so results are
 * deterministic.
 *
 * This runs after every real-time scoring pass, so its shape follows measurements (Node 20, ALS
 * scores of a 50,000-item catalogue, k = 110; see the numbers below):
 * - Once the heap is full, almost every entry loses to the heap minimum (~690 of 50,000 get in), so
 *   the scan itself dominates. `nextAbove` compares against the minimum held in a local and checks
 *   eight entries per branch; that alone took the bare scan from ~66 to ~40 µs.
 * - Choosing the child to follow in `siftDown` is a coin flip the CPU mispredicts, so it is
 *   computed arithmetically (`rightIsWorse`) rather than branched on (~10% faster overall).
 * - The first k qualifying entries are heapified at once, and the result is produced by draining
 *   the heap (heapsort) instead of sorting an index array with a closure: with n = k = 110 these
 *   two took a call from 24 to 8 µs.
 * Tried and dropped, all slower here: a candidate buffer compacted by quickselect (partitioning
 * mispredicts more than sifting), bottom-up sifting, and a 4-ary heap.
 * Measured (median µs per call, Float32 or Float64 input, dot products of random 32-dim factors
 * with 20 entries masked): n = 50,000: k = 110 217 → 87, k = 10 138 → 42; n = 2,000: k = 110
 * 57 → 28, k = 10 8.6 → 3.5. A process that calls this with both Float32 and Float64 vectors makes
 * the scan polymorphic (~+17 µs at n = 50,000), which is acceptable.
 */
import type { Ranked } from '../models/recommender.js';

/**
 * The k best entries of `scores`, best first. Entries whose score is -Infinity or NaN are never
 * returned (callers mask excluded items with -Infinity), so the result may be shorter than k.
 */
export function topK(scores: Float32Array | Float64Array, k: number): Ranked {
  // Float64 so that Float64 inputs are compared exactly; only the output is rounded to Float32.
  const heapIdx = new Int32Array(k);
  const heapVal = new Float64Array(k);
  const n = scores.length;
  let size = 0;
  let i = 0;
  for (; i < n && size < k; i++) {
    const v = scores[i];
    if (v > -Infinity) {
      heapIdx[size] = i;
      heapVal[size] = v;
      size++;
    }
  }
  heapify(heapIdx, heapVal, size);
  if (size === k && k > 0) {
    // Every later entry has a higher index than the heap's, so it loses ties: only a strictly
    // greater score displaces the minimum. -Infinity and NaN never pass this comparison.
    for (i = nextAbove(scores, i, heapVal[0]); i < n; i = nextAbove(scores, i + 1, heapVal[0])) {
      siftDown(heapIdx, heapVal, k, 0, i, scores[i]);
    }
  }
  return drainBestFirst(heapIdx, heapVal, size);
}

/** The first index ≥ `from` whose score is strictly above `threshold`, or `scores.length`. */
function nextAbove(scores: Float32Array | Float64Array, from: number, threshold: number): number {
  const n = scores.length;
  let i = from;
  // One well-predicted branch per eight entries; the exact index is found by the loop below.
  for (; i + 8 <= n; i += 8) {
    if (scores[i] > threshold || scores[i + 1] > threshold || scores[i + 2] > threshold || scores[i + 3] > threshold ||
        scores[i + 4] > threshold || scores[i + 5] > threshold || scores[i + 6] > threshold || scores[i + 7] > threshold) break;
  }
  for (; i < n; i++) if (scores[i] > threshold) return i;
  return n;
}

/** Orders the first `size` entries into a heap (worst at the root). */
export function heapify(idx: Int32Array, val: Float64Array, size: number): void {
  for (let p = (size >> 1) - 1; p >= 0; p--) siftDown(idx, val, size, p, idx[p], val[p]);
}

/** Empties the heap into a best-first result: the root is always the worst entry left. */
export function drainBestFirst(idx: Int32Array, val: Float64Array, size: number): Ranked {
  const items = new Int32Array(size);
  const scores = new Float32Array(size);
  for (let last = size - 1; last >= 0; last--) {
    items[last] = idx[0];
    scores[last] = val[0];
    siftDown(idx, val, last, 0, idx[last], val[last]);
  }
  return { items, scores };
}

// The heap keeps its worst entry at the root: the lower score or, on equal scores, the higher index
// (the one that loses the tie and must be evicted first).

/**
 * Places entry (i, v) into the heap of `size` entries, starting from the empty slot `hole`. Replacing
 * the root of a full heap is `siftDown(idx, val, size, 0, i, v)`; also used by norm-ordered-topk.ts.
 */
export function siftDown(idx: Int32Array, val: Float64Array, size: number, hole: number, i: number, v: number): void {
  for (;;) {
    let c = 2 * hole + 1;
    if (c >= size) break;
    if (c + 1 < size) c += rightIsWorse(idx, val, c);
    const cv = val[c], ci = idx[c];
    if (!(cv < v || (cv === v && ci > i))) break;
    idx[hole] = ci;
    val[hole] = cv;
    hole = c;
  }
  idx[hole] = i;
  val[hole] = v;
}

/** 1 if the entry after `c` is worse than `c`, else 0 (arithmetic to avoid a mispredicted branch). */
function rightIsWorse(idx: Int32Array, val: Float64Array, c: number): number {
  const left = val[c], right = val[c + 1];
  return Number(right < left) | (Number(right === left) & Number(idx[c + 1] > idx[c]));
}
