/**
 * @module EASE^R, the item-item linear autoencoder with a closed form (Steck, "Embarrassingly Shallow
 * Autoencoders for Sparse Data", WWW 2019, https://arxiv.org/abs/1905.03375):
 *
 *   G = XᵀX + λI,   P = G⁻¹,   B = I − P·diag(1/diag P)   (B_ij = −P_ij/P_jj, B_ii = 0),
 *   score(u) = x_u·B
 *
 * X is the user×item matrix, binarised (1 per stored interaction) by default or weighted by the stored
 * values. Training is one dense n×n inverse (n = items): n³/2 multiply-adds and 12·n² bytes at its peak
 * (Float64 Gram/inverse, 8·n², plus the Float32 weights B, 4·n²): 34 MB for 1682 items, 1.2 GB for
 * 10k, 4.8 GB for 20k. Above `maxItems` it refuses and points to ials. The fitted state is B (Float32)
 * and the training rows (to score known users), so fold-in of a new user is exact: x·B.
 */
import { availableParallelism } from 'node:os';
import type { CsrMatrix } from '../core/csr.js';
import { RecError } from '../core/errors.js';
import { allocateSquare, invertSpd } from '../math/dense-inverse.js';
import { easeWeightsInto, gramLowerInto } from './ease-gram.js';
import type {
  FitOptions,
  FitReport,
  HyperParameters,
  ModelState,
  Recommender,
  RecommenderFactory,
} from './recommender.js';

export interface EaseParams {
  /** L2 weight λ added to the Gram diagonal (> 0); larger shrinks B. Tuned on a validation split. */
  readonly lambda: number;
  /** Treat every stored interaction as 1 (the paper's setting) rather than weighting by its value. */
  readonly binarize: boolean;
  /** Largest item count fit() accepts: the dense inverse needs 12·n² bytes. */
  readonly maxItems: number;
}

// Tuned by `npm run bench:tune` (3 validation folds carved from the MovieLens 100K benchmark train split; BENCHMARKS.md, section tune): best nDCG@10.
export const EASE_DEFAULTS: EaseParams = { lambda: 700, binarize: true, maxItems: 20_000 };

interface EaseFitted {
  readonly numUsers: number;
  readonly numItems: number;
  /** Row-major [numItems × numItems]: row i is what item i adds to every item's score. */
  readonly weights: Float32Array;
  readonly indptr: Int32Array;
  readonly indices: Int32Array;
  /** Interaction values, kept only when not binarised. */
  readonly data: Float32Array | null;
}

class EaseRecommender implements Recommender {
  readonly type = 'ease' as const;
  readonly predictsRatings = false;
  readonly hyperParameters: HyperParameters;
  private readonly params: EaseParams;
  private fitted: EaseFitted | null;

  constructor(params: EaseParams, fitted: EaseFitted | null) {
    this.params = params;
    this.hyperParameters = Object.freeze({ ...params });
    this.fitted = fitted;
  }

  get numUsers(): number {
    return this.fitted?.numUsers ?? 0;
  }

  get numItems(): number {
    return this.fitted?.numItems ?? 0;
  }

  async fit(userItems: CsrMatrix, options: FitOptions = {}): Promise<FitReport> {
    const started = performance.now();
    throwIfAborted(options.signal);
    const n = userItems.cols;
    const { lambda, binarize, maxItems } = this.params;
    if (n > maxItems) {
      throw new RecError(
        'RTREC_ERR_MODEL_UNSUPPORTED',
        `EASE needs a dense ${n}×${n} item matrix (about ${gigabytes(n)} GB while training) and this data has ` +
          `${n} items, above maxItems=${maxItems}; use the ials model for large catalogues, ` +
          'or raise maxItems if the machine has the memory',
        { details: { numItems: n, maxItems } },
      );
    }
    const threads = options.threads ?? availableParallelism();
    let g: Float64Array;
    try {
      g = allocateSquare(n);
    } catch (err) {
      throw new RecError(
        'RTREC_ERR_MODEL_UNSUPPORTED',
        `cannot allocate the ${n}×${n} EASE matrix (${gigabytes(n)} GB); lower maxItems or use the ials model`,
        { cause: err },
      );
    }
    gramLowerInto(userItems, binarize, lambda, g);
    await invertSpd(g, n, g, { threads, signal: options.signal });
    const weights = new Float32Array(n * n);
    easeWeightsInto(g, n, weights);
    this.fitted = {
      numUsers: userItems.rows,
      numItems: n,
      weights,
      indptr: userItems.indptr.slice(),
      indices: userItems.indices.slice(),
      data: binarize ? null : userItems.data.slice(),
    };
    const seconds = (performance.now() - started) / 1000;
    options.onIteration?.({ iteration: 1, total: 1, seconds });
    return { seconds, iterations: 1 };
  }

  scoreUser(userIdx: number, out: Float32Array): void {
    const f = this.ready(out);
    if (!Number.isInteger(userIdx) || userIdx < 0 || userIdx >= f.numUsers) {
      throw new RangeError(`user index ${userIdx} is outside 0..${f.numUsers - 1}`);
    }
    out.fill(0);
    for (let p = f.indptr[userIdx]; p < f.indptr[userIdx + 1]; p++) {
      addRow(f.weights, f.numItems, f.indices[p], f.data ? f.data[p] : 1, out);
    }
  }

  scoreInteractions(items: Int32Array, values: Float32Array, out: Float32Array): void {
    const f = this.ready(out);
    if (values.length !== items.length) {
      throw new RangeError(`items and values must be parallel; got ${items.length} items and ${values.length} values`);
    }
    for (const i of items) checkItem(i, f.numItems);
    out.fill(0);
    if (this.params.binarize) {
      // X is binary: an item listed twice still counts once.
      const distinct = Int32Array.from(items).sort();
      for (let k = 0; k < distinct.length; k++) {
        if (k === 0 || distinct[k] !== distinct[k - 1]) addRow(f.weights, f.numItems, distinct[k], 1, out);
      }
    } else {
      for (let k = 0; k < items.length; k++) addRow(f.weights, f.numItems, items[k], values[k], out);
    }
  }

  predict(userIdx: number, itemIdx: number): number {
    const f = this.ready(null);
    if (!Number.isInteger(userIdx) || userIdx < 0 || userIdx >= f.numUsers) {
      throw new RangeError(`user index ${userIdx} is outside 0..${f.numUsers - 1}`);
    }
    checkItem(itemIdx, f.numItems);
    let s = 0;
    for (let p = f.indptr[userIdx]; p < f.indptr[userIdx + 1]; p++) {
      s += (f.data ? f.data[p] : 1) * f.weights[f.indices[p] * f.numItems + itemIdx];
    }
    return s;
  }

  /**
   * Row `itemIdx` of B: how much having interacted with that item raises each other item's score
   * (B is not symmetric; its diagonal, hence out[itemIdx], is 0). Values may be negative.
   */
  scoreSimilarItems(itemIdx: number, out: Float32Array): void {
    const f = this.ready(out);
    checkItem(itemIdx, f.numItems);
    const n = f.numItems;
    out.set(f.weights.subarray(itemIdx * n, itemIdx * n + n));
  }

  /** The live arrays, not copies (B alone is 4·n² bytes): callers must not modify them. */
  exportState(): ModelState {
    const f = this.ready(null);
    const arrays: Record<string, Float32Array | Int32Array> = {
      weights: f.weights,
      indptr: f.indptr,
      indices: f.indices,
    };
    if (f.data) arrays.data = f.data;
    return { arrays, values: {} };
  }

  private ready(out: Float32Array | null): EaseFitted {
    const f = this.fitted;
    if (!f) throw new RecError('RTREC_ERR_MODEL_NOT_FITTED', 'the EASE model has not been trained or loaded');
    if (out && out.length !== f.numItems) {
      throw new RangeError(`out must have one entry per item (${f.numItems}), it has ${out.length}`);
    }
    return f;
  }
}

/** out += w · B[i, :] */
function addRow(weights: Float32Array, n: number, i: number, w: number, out: Float32Array): void {
  const row = i * n;
  for (let j = 0; j < n; j++) out[j] += w * weights[row + j];
}

function checkItem(i: number, n: number): void {
  if (!Number.isInteger(i) || i < 0 || i >= n) throw new RangeError(`item index ${i} is outside 0..${n - 1}`);
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new RecError('RTREC_ERR_MODEL_FIT_ABORTED', 'EASE training was cancelled', { cause: signal.reason });
}

function gigabytes(n: number): string {
  return ((12 * n * n) / 1e9).toFixed(1);
}

/** Merges `hp` over EASE_DEFAULTS and checks every value; unknown names are refused, not ignored. */
export function parseEaseParams(hp: HyperParameters): EaseParams {
  for (const key of Object.keys(hp)) {
    if (!(key in EASE_DEFAULTS)) {
      throw new RecError(
        'RTREC_ERR_CONFIG_INVALID',
        `unknown EASE hyper-parameter ${JSON.stringify(key)}; known: ${Object.keys(EASE_DEFAULTS).join(', ')}`,
      );
    }
  }
  const lambda = readNumber(hp, 'lambda', EASE_DEFAULTS.lambda);
  if (!(lambda > 0) || !Number.isFinite(lambda)) invalid('lambda', hp.lambda, 'a finite number > 0');
  const maxItems = readNumber(hp, 'maxItems', EASE_DEFAULTS.maxItems);
  if (!Number.isInteger(maxItems) || maxItems < 1) invalid('maxItems', hp.maxItems, 'an integer ≥ 1');
  return { lambda, binarize: readBoolean(hp, 'binarize', EASE_DEFAULTS.binarize), maxItems };
}

function readNumber(hp: HyperParameters, key: string, fallback: number): number {
  const v = hp[key];
  if (v === undefined) return fallback;
  const num = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof num !== 'number' || Number.isNaN(num)) invalid(key, v, 'a number');
  return num;
}

function readBoolean(hp: HyperParameters, key: string, fallback: boolean): boolean {
  const v = hp[key];
  if (v === undefined) return fallback;
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  invalid(key, v, 'true or false');
}

function invalid(key: string, value: unknown, expected: string): never {
  throw new RecError('RTREC_ERR_CONFIG_INVALID', `EASE hyper-parameter ${key}=${JSON.stringify(value)} must be ${expected}`);
}

function restoreFitted(params: EaseParams, numUsers: number, numItems: number, state: ModelState): EaseFitted {
  const corrupt = (why: string): never => {
    throw new RecError('RTREC_ERR_MODEL_CORRUPT', `EASE state is unusable: ${why}`);
  };
  const { weights, indptr, indices, data } = state.arrays;
  if (!(weights instanceof Float32Array) || weights.length !== numItems * numItems) {
    corrupt(`weights must be Float32 with ${numItems}×${numItems} entries`);
  }
  if (!(indptr instanceof Int32Array) || indptr.length !== numUsers + 1) corrupt(`indptr must be Int32 with ${numUsers + 1} entries`);
  if (!(indices instanceof Int32Array) || indices.length !== indptr[numUsers]) corrupt('indices must be Int32 with indptr[numUsers] entries');
  for (let u = 0; u < numUsers; u++) if (indptr[u + 1] < indptr[u]) corrupt(`indptr decreases at user ${u}`);
  for (const i of indices as Int32Array) if (i < 0 || i >= numItems) corrupt(`item index ${i} is outside 0..${numItems - 1}`);
  if (params.binarize) {
    if (data !== undefined) corrupt('data is present but the model is binarised');
  } else if (!(data instanceof Float32Array) || data.length !== indices.length) {
    corrupt('data must be Float32 and parallel to indices (the model is not binarised)');
  }
  return {
    numUsers,
    numItems,
    weights: weights as Float32Array,
    indptr: indptr as Int32Array,
    indices: indices as Int32Array,
    data: params.binarize ? null : (data as Float32Array),
  };
}

export const easeFactory: RecommenderFactory = {
  type: 'ease',
  defaults: Object.freeze({ ...EASE_DEFAULTS }),
  explicit: false,
  create: (hyperParameters) => new EaseRecommender(parseEaseParams(hyperParameters), null),
  restore: (hyperParameters, numUsers, numItems, state) => {
    const params = parseEaseParams(hyperParameters);
    return new EaseRecommender(params, restoreFitted(params, numUsers, numItems, state));
  },
};
