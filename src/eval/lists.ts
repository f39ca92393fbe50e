/**
 * @module The shapes evaluation works on: recommendations as per-user ranked item lists (dense
 * indices) and truth as per-user sets of relevant items, plus the conversions between the shapes
 * callers have (Interactions, arrays of Sets, row-major batches) and the compact forms the metric loops
 * walk without allocating per user.
 */
import type { Interactions } from '../data/interactions.js';

/**
 * A batch of ranked lists in one buffer, as a trainer's batched top-k produces it.
 * `users[r]` is the dense user index of row r; `items` is row-major [users.length × width] of item
 * indices best first, with -1 padding a row that has fewer than `width` items.
 */
export interface FlatRecommendations {
  readonly users: Int32Array;
  readonly items: Int32Array;
  readonly width: number;
}

/**
 * Recommendations per user: either an array indexed by dense user index (null, undefined or an empty
 * array = no recommendations for that user) or a {@link FlatRecommendations} batch. Item indices are
 * best first; a negative entry ends a list.
 */
export type RecommendationLists = readonly (Int32Array | null | undefined)[] | FlatRecommendations;

/**
 * Relevant items per user: an array indexed by dense user index (null, undefined or an empty set =
 * the user is not in the truth), or an Interactions log whose rows are the relevant pairs.
 */
export type Truth = Interactions | readonly (ReadonlySet<number> | null | undefined)[];

/**
 * Truth in compressed rows: user u's distinct relevant items are items[indptr[u] .. indptr[u+1]),
 * sorted ascending. `numUsers` with a non-empty row is `truthUsers`.
 */
export interface RelevantIndex {
  readonly numUsers: number;
  readonly indptr: Int32Array;
  readonly items: Int32Array;
  readonly truthUsers: number;
}

/** Visits each non-empty list as (userIdx, buffer, start, end): the list is buffer[start .. end). */
export type ListVisitor = (userIdx: number, buffer: Int32Array, start: number, end: number) => void;

function isFlat(recs: RecommendationLists): recs is FlatRecommendations {
  return !Array.isArray(recs);
}

/**
 * Calls `visit` for every user with at least one recommended item, in user order for the array form
 * and row order for the flat form; `end` stops at the first negative entry and at most `k` entries.
 * @throws RangeError when a user appears twice in a flat batch or the batch shape is inconsistent.
 */
export function forEachList(recs: RecommendationLists, k: number, visit: ListVisitor): void {
  if (isFlat(recs)) {
    const { users, items, width } = recs;
    if (items.length !== users.length * width) {
      throw new RangeError(`flat recommendations: items has ${items.length} entries, expected users (${users.length}) × width (${width})`);
    }
    const seen = new Set<number>();
    for (let r = 0; r < users.length; r++) {
      const u = users[r];
      if (seen.has(u)) throw new RangeError(`flat recommendations: user index ${u} appears in more than one row`);
      seen.add(u);
      const start = r * width;
      const end = listEnd(items, start, start + Math.min(width, k));
      if (end > start) visit(u, items, start, end);
    }
    return;
  }
  for (let u = 0; u < recs.length; u++) {
    const list = recs[u];
    if (!list) continue;
    const end = listEnd(list, 0, Math.min(list.length, k));
    if (end > 0) visit(u, list, 0, end);
  }
}

function listEnd(buffer: Int32Array, start: number, limit: number): number {
  let end = start;
  while (end < limit && buffer[end] >= 0) end++;
  return end;
}

/** Compacts truth into a {@link RelevantIndex}; duplicate (user, item) pairs count once. */
export function relevantIndex(truth: Truth): RelevantIndex {
  if (Array.isArray(truth)) return indexFromSets(truth as readonly (ReadonlySet<number> | null | undefined)[]);
  return indexFromInteractions(truth as Interactions);
}

function indexFromSets(sets: readonly (ReadonlySet<number> | null | undefined)[]): RelevantIndex {
  const numUsers = sets.length;
  const indptr = new Int32Array(numUsers + 1);
  for (let u = 0; u < numUsers; u++) indptr[u + 1] = indptr[u] + (sets[u]?.size ?? 0);
  const items = new Int32Array(indptr[numUsers]);
  let truthUsers = 0;
  for (let u = 0; u < numUsers; u++) {
    const set = sets[u];
    if (!set || set.size === 0) continue;
    truthUsers++;
    let p = indptr[u];
    for (const item of set) items[p++] = item;
    items.subarray(indptr[u], p).sort();
  }
  return { numUsers, indptr, items, truthUsers };
}

function indexFromInteractions(truth: Interactions): RelevantIndex {
  let numUsers = truth.users.size;
  for (let i = 0; i < truth.length; i++) if (truth.user[i] >= numUsers) numUsers = truth.user[i] + 1;
  const counts = new Int32Array(numUsers + 1);
  for (let i = 0; i < truth.length; i++) counts[truth.user[i] + 1]++;
  for (let u = 0; u < numUsers; u++) counts[u + 1] += counts[u];
  const cursor = counts.slice(0, numUsers);
  const grouped = new Int32Array(truth.length);
  for (let i = 0; i < truth.length; i++) grouped[cursor[truth.user[i]]++] = truth.item[i];
  // Sort each row and drop repeated pairs in place, compacting rows towards the front.
  const indptr = new Int32Array(numUsers + 1);
  let nnz = 0;
  let truthUsers = 0;
  for (let u = 0; u < numUsers; u++) {
    indptr[u] = nnz;
    const row = grouped.subarray(counts[u], counts[u + 1]).sort();
    for (let p = 0; p < row.length; p++) {
      if (p > 0 && row[p] === row[p - 1]) continue;
      grouped[nnz++] = row[p];
    }
    if (nnz > indptr[u]) truthUsers++;
  }
  indptr[numUsers] = nnz;
  return { numUsers, indptr, items: grouped.slice(0, nnz), truthUsers };
}
