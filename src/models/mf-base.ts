/**
 * @module What explicit and implicit ALS share once fitted: user and item factors (flat row-major
 * Float32Array), scoring a user against every item, dot-product prediction, cosine item similarity
 * with lazily cached item norms, top-k without scoring every item (norm-ordered-topk.ts), state
 * export, and validation of restored arrays. Subclasses add fit and the fold-in of a user's
 * interactions (foldIn).
 */
import { RecError } from '../core/errors.js';
import { NormOrderedRanker } from '../math/norm-ordered-topk.js';
import { RowScorer } from '../math/row-scorer.js';
import type { HyperParameters, ModelState, ModelType, Ranked } from './recommender.js';

export abstract class MfModel {
  abstract readonly type: ModelType;
  readonly hyperParameters: HyperParameters;
  readonly rank: number;
  protected userFactors: Float32Array | null = null;
  protected itemFactors: Float32Array | null = null;
  private itemNorms: Float32Array | null = null;
  /** The item factors in WebAssembly memory for SIMD scoring, built on first use. */
  private itemScorer: RowScorer | null = null;
  /** The item factors sorted by norm for top-k, built on first use (a copy of its own). */
  private itemRanker: NormOrderedRanker | null = null;

  protected constructor(hyperParameters: HyperParameters, rank: number) {
    this.hyperParameters = hyperParameters;
    this.rank = rank;
  }

  get numUsers(): number {
    return this.userFactors ? this.userFactors.length / this.rank : 0;
  }

  get numItems(): number {
    return this.itemFactors ? this.itemFactors.length / this.rank : 0;
  }

  /** Installs fitted or restored factors and drops every cache derived from the old ones. */
  protected setFactors(userFactors: Float32Array, itemFactors: Float32Array): void {
    this.userFactors = userFactors;
    this.itemFactors = itemFactors;
    this.itemNorms = null;
    this.itemScorer = null;
    this.itemRanker = null;
    this.onFactorsChanged();
  }

  /** Hook for subclasses that cache something derived from the factors. */
  protected onFactorsChanged(): void {}

  protected fitted(): { users: Float32Array; items: Float32Array } {
    if (!this.userFactors || !this.itemFactors) {
      throw new RecError('RTREC_ERR_MODEL_NOT_FITTED', `${this.type} model used before fit() or restore()`);
    }
    return { users: this.userFactors, items: this.itemFactors };
  }

  /** out[i] = x_uᵀ y_i for every item (length numItems). */
  scoreUser(userIdx: number, out: Float32Array): void {
    const { users } = this.fitted();
    if (!(userIdx >= 0 && userIdx < this.numUsers)) throw new RangeError(`user index ${userIdx} outside [0, ${this.numUsers})`);
    this.scoreVector(users, userIdx * this.rank, out);
  }

  /** The user vector of a user with interactions `items`/`values`, the item side fixed; valid until the next call. */
  protected abstract foldIn(items: Int32Array, values: Float32Array): Float32Array;

  /** Fold-in of `items`/`values`, then out[i] = x·y_i for every item. */
  scoreInteractions(items: Int32Array, values: Float32Array, out: Float32Array): void {
    this.scoreVector(this.foldIn(items, values), 0, out);
  }

  /** See Recommender.topKForUser. */
  topKForUser(userIdx: number, k: number, exclude: readonly ArrayLike<number>[]): Ranked {
    const { users } = this.fitted();
    if (!(userIdx >= 0 && userIdx < this.numUsers)) throw new RangeError(`user index ${userIdx} outside [0, ${this.numUsers})`);
    return this.rankVector(users, userIdx * this.rank, k, exclude);
  }

  /** See Recommender.topKForInteractions. */
  topKForInteractions(items: Int32Array, values: Float32Array, k: number, exclude: readonly ArrayLike<number>[]): Ranked {
    return this.rankVector(this.foldIn(items, values), 0, k, exclude);
  }

  private rankVector(vec: ArrayLike<number>, offset: number, k: number, exclude: readonly ArrayLike<number>[]): Ranked {
    const { items } = this.fitted();
    this.itemRanker ??= new NormOrderedRanker(items, this.numItems, this.rank);
    return this.itemRanker.topK(vec, offset, k, exclude);
  }

  /**
   * out[i] = vᵀ y_i where v = vec[offset .. offset + rank): SIMD over a copy of the item factors
   * (math/row-scorer.ts), the cost of every recommendation, fold-in and similar-items list.
   */
  protected scoreVector(vec: ArrayLike<number>, offset: number, out: Float32Array): void {
    const { items } = this.fitted();
    const n = this.numItems;
    if (out.length < n) throw new RangeError(`output length ${out.length} < number of items ${n}`);
    this.itemScorer ??= new RowScorer(items, n, this.rank);
    this.itemScorer.score(vec, offset, out);
  }

  /** x_uᵀ y_i; NaN when either index is out of range. */
  predict(userIdx: number, itemIdx: number): number {
    const { users, items } = this.fitted();
    if (!(userIdx >= 0 && userIdx < this.numUsers && itemIdx >= 0 && itemIdx < this.numItems)) return NaN;
    const k = this.rank;
    const uo = userIdx * k, io = itemIdx * k;
    let s = 0;
    for (let a = 0; a < k; a++) s += users[uo + a] * items[io + a];
    return s;
  }

  /** Cosine similarity of item factors; 0 where either item has a zero factor. */
  scoreSimilarItems(itemIdx: number, out: Float32Array): void {
    const { items } = this.fitted();
    if (!(itemIdx >= 0 && itemIdx < this.numItems)) throw new RangeError(`item index ${itemIdx} outside [0, ${this.numItems})`);
    const norms = this.getItemNorms();
    this.scoreVector(items, itemIdx * this.rank, out);
    const own = norms[itemIdx];
    for (let i = 0; i < this.numItems; i++) {
      const d = own * norms[i];
      out[i] = d > 0 ? out[i] / d : 0;
    }
  }

  private getItemNorms(): Float32Array {
    if (this.itemNorms) return this.itemNorms;
    const { items } = this.fitted();
    const k = this.rank;
    const norms = new Float32Array(this.numItems);
    for (let i = 0; i < norms.length; i++) {
      let s = 0;
      for (let a = 0; a < k; a++) s += items[i * k + a] * items[i * k + a];
      norms[i] = Math.sqrt(s);
    }
    this.itemNorms = norms;
    return norms;
  }

  exportState(): ModelState {
    const { users, items } = this.fitted();
    return { arrays: { userFactors: users.slice(), itemFactors: items.slice() }, values: {} };
  }

  /** See Recommender.foldInState: the item factors only (not copied; restoring copies them). */
  foldInState(): { numUsers: number; state: ModelState } {
    const { items } = this.fitted();
    return { numUsers: 0, state: { arrays: { userFactors: new Float32Array(0), itemFactors: items }, values: {} } };
  }

  /** Checks and installs exported factors (copies, so the state object can be reused). */
  protected restoreFactors(numUsers: number, numItems: number, state: ModelState): void {
    const users = state.arrays.userFactors;
    const items = state.arrays.itemFactors;
    const k = this.rank;
    if (!(users instanceof Float32Array) || !(items instanceof Float32Array)) {
      throw new RecError('RTREC_ERR_MODEL_CORRUPT', `${this.type} state needs Float32Array arrays 'userFactors' and 'itemFactors'`);
    }
    if (users.length !== numUsers * k || items.length !== numItems * k) {
      throw new RecError(
        'RTREC_ERR_MODEL_CORRUPT',
        `${this.type} factors have ${users.length} and ${items.length} values; expected ${numUsers}×${k} and ${numItems}×${k}`,
      );
    }
    this.setFactors(users.slice(), items.slice());
  }
}
