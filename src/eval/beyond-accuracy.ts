/**
 * @module Beyond-accuracy metrics of recommendation lists against the training data, as Microsoft
 * Recommenders' python_evaluation defines catalog_coverage, distributional_coverage, novelty and
 * diversity (item_sim_measure 'item_cooccurrence_count'). The recommendation frame is every user's top
 * k (all users with a list, whether or not they are in the test truth).
 *
 * Train is taken as a set of (user, item) pairs (Recommenders assumes it has no duplicate rows; a
 * repeated pair counts once here). Recommenders refuses lists that contain training pairs; these
 * functions compute the same formulas regardless.
 */
import { csrFromCoo, transpose, type CsrMatrix } from '../core/csr.js';
import type { Interactions } from '../data/interactions.js';
import { forEachList, type RecommendationLists } from './lists.js';
import { checkK } from './metrics.js';

export interface BeyondAccuracyMetrics {
  /** Distinct recommended items / distinct items in train (Shani & Gunawardana 2010); ≥ 0. */
  catalogCoverage: number;
  /** −Σ p(i) log2 p(i) over the share p(i) of recommendation slots item i fills (formula 21 ibid.); bits. */
  distributionalCoverage: number;
  /**
   * Mean over recommendation slots of −log2(n_i / N), n_i = train users of item i, N = train pairs
   * (Castells et al., ECIR 2011, choice model); an item absent from train adds 0 but its slot counts. Bits.
   */
  novelty: number;
  /**
   * Mean over users with ≥ 2 recommended items of 1 − mean pairwise cosine similarity, where
   * sim(i, j) = co-occurrence(i, j) / √(n_i n_j) in train (Zhang et al., Auralist, WSDM 2012; 0 for pairs
   * never seen together). NaN when no user has two items. In [0, 1].
   */
  diversity: number;
}

export interface BeyondAccuracyOptions {
  /** Called now and then during the diversity pass with (items done, items total). */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Beyond-accuracy metrics of the top-k lists. Coverage and novelty are linear; diversity costs about
 * Σ over train users of degree² (random-access bound: ~10 s for 1M users of degree ~15 on one core).
 * @param train training interactions, in the same dense item index space as `recommendations`.
 * @param recommendations ranked item indices per user (first k count; a repeated item counts once).
 * @param k cut-off ≥ 1.
 */
export function beyondAccuracyMetrics(
  train: Interactions,
  recommendations: RecommendationLists,
  k: number,
  options: BeyondAccuracyOptions = {},
): BeyondAccuracyMetrics {
  checkK(k);
  const userItems = trainMatrix(train);
  const itemUsers = transpose(userItems);
  const numTrainItems = itemUsers.rows;
  const trainPairs = userItems.indptr[userItems.rows];
  let distinctTrainItems = 0;
  for (let i = 0; i < numTrainItems; i++) if (itemUsers.indptr[i + 1] > itemUsers.indptr[i]) distinctTrainItems++;
  const usersOf = (item: number) => (item < numTrainItems ? itemUsers.indptr[item + 1] - itemUsers.indptr[item] : 0);

  const lists = compactLists(recommendations, k);
  const slots = lists.items.length;
  const recoCount = new Map<number, number>();
  let noveltySum = 0;
  for (let p = 0; p < slots; p++) {
    const item = lists.items[p];
    recoCount.set(item, (recoCount.get(item) ?? 0) + 1);
    const n = usersOf(item);
    if (n > 0) noveltySum += -Math.log2(n / trainPairs);
  }
  let entropy = 0;
  for (const count of recoCount.values()) {
    const p = count / slots;
    entropy -= p * Math.log2(p);
  }
  return {
    catalogCoverage: distinctTrainItems === 0 ? NaN : recoCount.size / distinctTrainItems,
    distributionalCoverage: slots === 0 ? NaN : entropy,
    novelty: slots === 0 ? NaN : noveltySum / slots,
    diversity: diversity(lists, userItems, itemUsers, options.onProgress),
  };
}

/** Top-k lists without repeated items, concatenated: list l is items[ptr[l] .. ptr[l+1]). */
interface CompactLists {
  readonly ptr: Int32Array;
  readonly items: Int32Array;
}

function compactLists(recommendations: RecommendationLists, k: number): CompactLists {
  const ptr: number[] = [0];
  const items: number[] = [];
  forEachList(recommendations, k, (_u, buffer, start, end) => {
    const first = items.length;
    for (let p = start; p < end; p++) {
      const item = buffer[p];
      let repeated = false;
      for (let q = first; q < items.length && !repeated; q++) repeated = items[q] === item;
      if (!repeated) items.push(item);
    }
    ptr.push(items.length);
  });
  return { ptr: Int32Array.from(ptr), items: Int32Array.from(items) };
}

/**
 * Mean over lists with ≥ 2 items of 1 − (mean over item pairs a < b of C_ab / √(n_a n_b)), with C the
 * train co-occurrence counts. C_ab is never stored: for each recommended item a in turn, one pass over
 * the train rows of a's users counts C_a· for items above a into a dense scratch row, which then serves
 * every list holding a. Cost Σ over train users of degree × recommended items they hold (the same
 * self-join Recommenders does with pandas), memory O(items + list entries).
 */
function diversity(lists: CompactLists, userItems: CsrMatrix, itemUsers: CsrMatrix, onProgress?: (done: number, total: number) => void): number {
  const numLists = lists.ptr.length - 1;
  const numTrainItems = itemUsers.rows;
  // Inverted index: for each item, the lists containing it.
  let maxItem = -1;
  for (let p = 0; p < lists.items.length; p++) if (lists.items[p] > maxItem) maxItem = lists.items[p];
  const invPtr = new Int32Array(maxItem + 2);
  for (let p = 0; p < lists.items.length; p++) invPtr[lists.items[p] + 1]++;
  for (let i = 0; i <= maxItem; i++) invPtr[i + 1] += invPtr[i];
  const cursor = invPtr.slice(0, maxItem + 1);
  const invList = new Int32Array(lists.items.length);
  for (let l = 0; l < numLists; l++) for (let p = lists.ptr[l]; p < lists.ptr[l + 1]; p++) invList[cursor[lists.items[p]]++] = l;

  const simSum = new Float64Array(numLists);
  const cooc = new Int32Array(numTrainItems);
  const stamp = new Int32Array(numTrainItems); // stamp[j] = a + 1 when cooc[j] holds C_aj
  const lastItem = Math.min(maxItem, numTrainItems - 1);
  for (let a = 0; a <= lastItem; a++) {
    if (onProgress && (a & 1023) === 0) onProgress(a, lastItem + 1);
    if (invPtr[a + 1] === invPtr[a]) continue;
    const na = itemUsers.indptr[a + 1] - itemUsers.indptr[a];
    if (na === 0) continue;
    const mark = a + 1;
    for (let q = itemUsers.indptr[a]; q < itemUsers.indptr[a + 1]; q++) {
      const v = itemUsers.indices[q];
      // Row v is sorted: skip to the items above a (a itself is in the row).
      for (let p = upperBound(userItems, v, a); p < userItems.indptr[v + 1]; p++) {
        const j = userItems.indices[p];
        if (stamp[j] !== mark) {
          stamp[j] = mark;
          cooc[j] = 0;
        }
        cooc[j]++;
      }
    }
    for (let x = invPtr[a]; x < invPtr[a + 1]; x++) {
      const l = invList[x];
      for (let p = lists.ptr[l]; p < lists.ptr[l + 1]; p++) {
        const b = lists.items[p];
        if (b <= a || b >= numTrainItems || stamp[b] !== mark) continue;
        simSum[l] += cooc[b] / Math.sqrt(na * (itemUsers.indptr[b + 1] - itemUsers.indptr[b]));
      }
    }
  }
  onProgress?.(lastItem + 1, lastItem + 1);
  let sum = 0, count = 0;
  for (let l = 0; l < numLists; l++) {
    const len = lists.ptr[l + 1] - lists.ptr[l];
    if (len < 2) continue;
    sum += 1 - simSum[l] / ((len * (len - 1)) / 2);
    count++;
  }
  return count === 0 ? NaN : sum / count;
}

/** First position in row r whose column is greater than c. */
function upperBound(m: CsrMatrix, r: number, c: number): number {
  let lo = m.indptr[r], hi = m.indptr[r + 1];
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (m.indices[mid] <= c) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function trainMatrix(train: Interactions): CsrMatrix {
  let numUsers = train.users.size, numItems = train.items.size;
  for (let i = 0; i < train.length; i++) {
    if (train.user[i] >= numUsers) numUsers = train.user[i] + 1;
    if (train.item[i] >= numItems) numItems = train.item[i] + 1;
  }
  return csrFromCoo(numUsers, numItems, train.user, train.item, null, 'max');
}
