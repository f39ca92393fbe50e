/**
 * @module Top-k selection over a dense score vector with a bounded min-heap: O(n log k), no
 * allocation besides the result. Ties break towards the lower index so results are deterministic.
 */
import type { Ranked } from '../models/recommender.js';

/**
 * The k best entries of `scores`, best first. Entries whose score is -Infinity or NaN are never
 * returned (callers mask excluded items with -Infinity), so the result may be shorter than k.
 */
export function topK(scores: Float32Array | Float64Array, k: number): Ranked {
  const heapIdx = new Int32Array(k);
  const heapVal = new Float64Array(k);
  let size = 0;
  const n = scores.length;
  for (let i = 0; i < n; i++) {
    const v = scores[i];
    if (!(v > -Infinity)) continue;
    if (size < k) {
      heapIdx[size] = i;
      heapVal[size] = v;
      siftUp(heapIdx, heapVal, size++);
    } else if (v > heapVal[0]) {
      heapIdx[0] = i;
      heapVal[0] = v;
      siftDown(heapIdx, heapVal, size);
    }
  }
  const order = Array.from({ length: size }, (_, j) => j);
  order.sort((a, b) => heapVal[b] - heapVal[a] || heapIdx[a] - heapIdx[b]);
  const items = new Int32Array(size);
  const out = new Float32Array(size);
  for (let j = 0; j < size; j++) {
    items[j] = heapIdx[order[j]];
    out[j] = heapVal[order[j]];
  }
  return { items, scores: out };
}

// Min-heap on value; among equal values the higher index is "smaller" so it is evicted first.
function less(idx: Int32Array, val: Float64Array, a: number, b: number): boolean {
  return val[a] < val[b] || (val[a] === val[b] && idx[a] > idx[b]);
}

function swap(idx: Int32Array, val: Float64Array, a: number, b: number): void {
  const ti = idx[a]; idx[a] = idx[b]; idx[b] = ti;
  const tv = val[a]; val[a] = val[b]; val[b] = tv;
}

function siftUp(idx: Int32Array, val: Float64Array, i: number): void {
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!less(idx, val, i, parent)) break;
    swap(idx, val, i, parent);
    i = parent;
  }
}

function siftDown(idx: Int32Array, val: Float64Array, size: number): void {
  let i = 0;
  for (;;) {
    const l = 2 * i + 1, r = l + 1;
    let m = i;
    if (l < size && less(idx, val, l, m)) m = l;
    if (r < size && less(idx, val, r, m)) m = r;
    if (m === i) return;
    swap(idx, val, i, m);
    i = m;
  }
}
