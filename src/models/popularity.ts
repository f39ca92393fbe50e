/**
 * @module The popularity baseline, also the cold-start fallback: every user gets the same item
 * scores, the number of distinct users who interacted with each item ('count', the default) or the
 * sum of the interaction values ('sum': total strength, or total of the ratings). Ties are left
 * tied; topK (math/topk.ts) then ranks them by item index, so results are deterministic.
 *
 * Time decay (`halfLifeDays`) is not implemented: fit() gets a CSR matrix without timestamps. Only
 * halfLifeDays = 0 (no decay) is accepted until training passes event times in.
 */
import type { CsrMatrix } from '../core/csr.js';
import { RecError } from '../core/errors.js';
import type {
  FitOptions,
  FitReport,
  HyperParameters,
  ModelState,
  Recommender,
  RecommenderFactory,
} from './recommender.js';

export const POPULARITY_MEASURES = ['count', 'sum'] as const;
export type PopularityMeasure = (typeof POPULARITY_MEASURES)[number];

export interface PopularityParams {
  /** 'count': distinct users per item; 'sum': sum of the stored values per item. */
  readonly measure: PopularityMeasure;
}

export const POPULARITY_DEFAULTS: PopularityParams = { measure: 'count' };

class PopularityRecommender implements Recommender {
  readonly type = 'pop' as const;
  readonly predictsRatings = false;
  readonly hyperParameters: HyperParameters;
  private readonly params: PopularityParams;
  private fitted: { readonly numUsers: number; readonly scores: Float32Array } | null;

  constructor(params: PopularityParams, fitted: { numUsers: number; scores: Float32Array } | null) {
    this.params = params;
    this.hyperParameters = Object.freeze({ ...params });
    this.fitted = fitted;
  }

  get numUsers(): number {
    return this.fitted?.numUsers ?? 0;
  }

  get numItems(): number {
    return this.fitted?.scores.length ?? 0;
  }

  fit(userItems: CsrMatrix, options: FitOptions = {}): Promise<FitReport> {
    const started = performance.now();
    if (options.signal?.aborted) {
      return Promise.reject(
        new RecError('RTREC_ERR_MODEL_FIT_ABORTED', 'popularity training was cancelled', { cause: options.signal.reason }),
      );
    }
    // Float64 while summing: Float32 would stop counting exactly past 2^24.
    const totals = new Float64Array(userItems.cols);
    const nnz = userItems.indptr[userItems.rows];
    const { indices, data } = userItems;
    // A CSR row stores each column once, so counting entries counts distinct users.
    if (this.params.measure === 'count') for (let p = 0; p < nnz; p++) totals[indices[p]] += 1;
    else for (let p = 0; p < nnz; p++) totals[indices[p]] += data[p];
    this.fitted = { numUsers: userItems.rows, scores: Float32Array.from(totals) };
    const seconds = (performance.now() - started) / 1000;
    options.onIteration?.({ iteration: 1, total: 1, seconds });
    return Promise.resolve({ seconds, iterations: 1 });
  }

  /** The popularity of every item; `userIdx` is not used (everyone gets the same list). */
  scoreUser(_userIdx: number, out: Float32Array): void {
    out.set(this.ready(out));
  }

  /** The popularity of every item, whatever the interactions. */
  scoreInteractions(_items: Int32Array, _values: Float32Array, out: Float32Array): void {
    out.set(this.ready(out));
  }

  /** The item's popularity; `userIdx` is not used. */
  predict(_userIdx: number, itemIdx: number): number {
    const scores = this.ready(null);
    if (!Number.isInteger(itemIdx) || itemIdx < 0 || itemIdx >= scores.length) {
      throw new RangeError(`item index ${itemIdx} is outside 0..${scores.length - 1}`);
    }
    return scores[itemIdx];
  }

  /**
   * Popularity again, not co-occurrence: the model knows nothing item-specific, and returning the
   * most popular items means "similar items" always has an answer (callers drop the item itself).
   */
  scoreSimilarItems(itemIdx: number, out: Float32Array): void {
    const scores = this.ready(out);
    if (!Number.isInteger(itemIdx) || itemIdx < 0 || itemIdx >= scores.length) {
      throw new RangeError(`item index ${itemIdx} is outside 0..${scores.length - 1}`);
    }
    out.set(scores);
  }

  /** The live array, not a copy: callers must not modify it. */
  exportState(): ModelState {
    return { arrays: { popularity: this.ready(null) }, values: {} };
  }

  private ready(out: Float32Array | null): Float32Array {
    if (!this.fitted) throw new RecError('RTREC_ERR_MODEL_NOT_FITTED', 'the popularity model has not been trained or loaded');
    const { scores } = this.fitted;
    if (out && out.length !== scores.length) {
      throw new RangeError(`out must have one entry per item (${scores.length}), it has ${out.length}`);
    }
    return scores;
  }
}

/** Merges `hp` over POPULARITY_DEFAULTS and checks it; unknown names are refused, not ignored. */
export function parsePopularityParams(hp: HyperParameters): PopularityParams {
  for (const key of Object.keys(hp)) {
    if (key !== 'measure' && key !== 'halfLifeDays') {
      throw new RecError('RTREC_ERR_CONFIG_INVALID', `unknown popularity hyper-parameter ${JSON.stringify(key)}; known: measure`);
    }
  }
  const decay = hp.halfLifeDays;
  if (decay !== undefined && decay !== 0 && decay !== '0') {
    throw new RecError(
      'RTREC_ERR_MODEL_UNSUPPORTED',
      `popularity time decay (halfLifeDays=${JSON.stringify(decay)}) is not supported yet: training gets no timestamps; use 0`,
    );
  }
  const measure = hp.measure ?? POPULARITY_DEFAULTS.measure;
  if (!POPULARITY_MEASURES.includes(measure as PopularityMeasure)) {
    throw new RecError(
      'RTREC_ERR_CONFIG_INVALID',
      `popularity hyper-parameter measure=${JSON.stringify(measure)} must be one of ${POPULARITY_MEASURES.join(', ')}`,
    );
  }
  return { measure: measure as PopularityMeasure };
}

export const popularityFactory: RecommenderFactory = {
  type: 'pop',
  defaults: Object.freeze({ ...POPULARITY_DEFAULTS }),
  explicit: false,
  create: (hyperParameters) => new PopularityRecommender(parsePopularityParams(hyperParameters), null),
  restore: (hyperParameters, numUsers, numItems, state) => {
    const params = parsePopularityParams(hyperParameters);
    const scores = state.arrays.popularity;
    if (!(scores instanceof Float32Array) || scores.length !== numItems) {
      throw new RecError('RTREC_ERR_MODEL_CORRUPT', `popularity state is unusable: popularity must be Float32 with ${numItems} entries`);
    }
    return new PopularityRecommender(params, { numUsers, scores });
  },
};
