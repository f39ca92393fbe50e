/**
 * @module A fitted Recommender together with everything needed to use it on external ids: the id
 * maps, the training interactions (to exclude seen items), item metadata and the manifest. This is
 * what `rtrec train` writes, and what `recommend`, `predict`, `publish` and the server load.
 */
import { hasEntry, type CsrMatrix } from '../core/csr.js';
import type { IdMap } from '../core/ids.js';
import type { ItemMetadata } from '../data/interactions.js';
import { topK } from '../math/topk.js';
import type { ModelInfo } from './manifest.js';
import type { Ranked, Recommender } from './recommender.js';

export interface RecommendOptions {
  /** How many items; the result may be shorter when fewer items qualify. */
  readonly k: number;
  /** Leave out items the user interacted with in training (default true). */
  readonly excludeSeen?: boolean;
  /** Only these item indices may be recommended (e.g. a genre filter), or these may not. */
  readonly filter?: { readonly only: Int32Array } | { readonly exclude: Int32Array };
}

export class TrainedModel {
  /** Mutable so evaluation results can be attached before saving. */
  info: ModelInfo;
  readonly recommender: Recommender;
  readonly users: IdMap;
  readonly items: IdMap;
  /** Training interactions, user × item (values: ratings or strengths as trained on). */
  readonly seen: CsrMatrix;
  readonly itemMetadata: ItemMetadata | null;

  constructor(parts: {
    info: ModelInfo;
    recommender: Recommender;
    users: IdMap;
    items: IdMap;
    seen: CsrMatrix;
    itemMetadata: ItemMetadata | null;
  }) {
    this.info = parts.info;
    this.recommender = parts.recommender;
    this.users = parts.users;
    this.items = parts.items;
    this.seen = parts.seen;
    this.itemMetadata = parts.itemMetadata;
  }

  /** Users the model was trained on (the id map may be shared with data loaded later and grow). */
  get numUsers(): number {
    return this.recommender.numUsers;
  }

  get numItems(): number {
    return this.recommender.numItems;
  }

  /**
   * Top-k items for a known user. `scratch` (length numItems) may be passed to avoid an allocation
   * per call when looping over many users.
   */
  recommend(userIdx: number, options: RecommendOptions, scratch?: Float32Array): Ranked {
    const excludeSeen = options.excludeSeen ?? true;
    if (this.recommender.topKForUser && !onlyFilter(options.filter)) {
      const { indptr, indices } = this.seen;
      const seen = excludeSeen && userIdx >= 0 && userIdx < this.seen.rows ? [indices.subarray(indptr[userIdx], indptr[userIdx + 1])] : [];
      return this.recommender.topKForUser(userIdx, options.k, [...seen, ...excludedBy(options.filter)]);
    }
    const scores = scratch ?? new Float32Array(this.numItems);
    this.recommender.scoreUser(userIdx, scores);
    if (excludeSeen) {
      const { indptr, indices } = this.seen;
      for (let p = indptr[userIdx]; p < indptr[userIdx + 1]; p++) scores[indices[p]] = -Infinity;
    }
    applyFilter(scores, options.filter);
    return topK(scores, options.k);
  }

  /** Top-k for a user described only by interactions (new or updated user: fold-in). */
  recommendFromInteractions(items: Int32Array, values: Float32Array, options: RecommendOptions, scratch?: Float32Array): Ranked {
    return rankInteractions(this.recommender, items, values, options, scratch);
  }

  /** The k items most similar to `itemIdx`, itself excluded. */
  similarItems(itemIdx: number, k: number, scratch?: Float32Array): Ranked {
    const scores = scratch ?? new Float32Array(this.numItems);
    this.recommender.scoreSimilarItems(itemIdx, scores);
    scores[itemIdx] = -Infinity;
    return topK(scores, k);
  }

  /** Predicted score for a pair of known indices; NaN for unknown ones (cold start: caller drops). */
  predict(userIdx: number, itemIdx: number): number {
    if (userIdx < 0 || itemIdx < 0 || userIdx >= this.numUsers || itemIdx >= this.numItems) return NaN;
    return this.recommender.predict(userIdx, itemIdx);
  }

  hasSeen(userIdx: number, itemIdx: number): boolean {
    return hasEntry(this.seen, userIdx, itemIdx);
  }
}

/**
 * TrainedModel.recommendFromInteractions on a bare Recommender: what a copy restored from
 * `foldInState` computes on another thread, with the same result.
 */
export function rankInteractions(recommender: Recommender, items: Int32Array, values: Float32Array, options: RecommendOptions, scratch?: Float32Array): Ranked {
  if (recommender.topKForInteractions && !onlyFilter(options.filter)) {
    const seen = (options.excludeSeen ?? true) ? [items] : [];
    return recommender.topKForInteractions(items, values, options.k, [...seen, ...excludedBy(options.filter)]);
  }
  const scores = scratch ?? new Float32Array(recommender.numItems);
  recommender.scoreInteractions(items, values, scores);
  if (options.excludeSeen ?? true) for (const i of items) scores[i] = -Infinity;
  applyFilter(scores, options.filter);
  return topK(scores, options.k);
}

function onlyFilter(filter: RecommendOptions['filter']): boolean {
  return filter !== undefined && 'only' in filter;
}

function excludedBy(filter: RecommendOptions['filter']): Int32Array[] {
  return filter && 'exclude' in filter ? [filter.exclude] : [];
}

function applyFilter(scores: Float32Array, filter: RecommendOptions['filter']): void {
  if (!filter) return;
  if ('exclude' in filter) {
    for (const i of filter.exclude) if (i >= 0 && i < scores.length) scores[i] = -Infinity;
    return;
  }
  const allowed = new Uint8Array(scores.length);
  for (const i of filter.only) if (i >= 0 && i < scores.length) allowed[i] = 1;
  for (let i = 0; i < scores.length; i++) if (!allowed[i]) scores[i] = -Infinity;
}
