/**
 * @module The contract every model implements. A Recommender works on dense indices only; ids,
 * seen items and metadata live in TrainedModel (models/trained-model.ts), which wraps one.
 */
import type { CsrMatrix } from '../core/csr.js';

export const MODEL_TYPES = ['als', 'ials', 'ease', 'pop'] as const;
export type ModelType = (typeof MODEL_TYPES)[number];

export type HyperParameters = Readonly<Record<string, number | boolean | string>>;

/** Top-k result: item indices best first, with their scores. */
export interface Ranked {
  readonly items: Int32Array;
  readonly scores: Float32Array;
}

export interface IterationEvent {
  /** 1-based iteration just finished. */
  readonly iteration: number;
  readonly total: number;
  /** Training loss after this iteration, when the model computes one cheaply. */
  readonly loss?: number;
  readonly seconds: number;
}

export interface FitOptions {
  readonly signal?: AbortSignal;
  readonly onIteration?: (event: IterationEvent) => void;
  /** Worker threads to use; defaults to the number of cores. */
  readonly threads?: number;
}

export interface FitReport {
  readonly seconds: number;
  readonly iterations: number;
  readonly finalLoss?: number;
}

/** Arrays and small parameters that fully restore a fitted model (written by models/model-io.ts). */
export interface ModelState {
  readonly arrays: Readonly<Record<string, Float32Array | Int32Array>>;
  /** Fitted scalars (e.g. global mean); hyper-parameters are stored separately. */
  readonly values: Readonly<Record<string, number>>;
}

export interface Recommender {
  readonly type: ModelType;
  readonly hyperParameters: HyperParameters;
  readonly numUsers: number;
  readonly numItems: number;
  /** True when predict() returns ratings on the training scale (explicit ALS). */
  readonly predictsRatings: boolean;

  /**
   * Trains on a user×item matrix: data holds ratings (explicit feedback) or interaction strength
   * (implicit; 1 per event when the source has no rating). Throws RTREC_ERR_MODEL_FIT_ABORTED on abort.
   */
  fit(userItems: CsrMatrix, options?: FitOptions): Promise<FitReport>;

  /** Writes the score of every item for `userIdx` into `out` (length numItems); higher is better. */
  scoreUser(userIdx: number, out: Float32Array): void;

  /**
   * Scores every item for a user described only by their interactions (fold-in: the user may be new).
   * `items`/`values` are parallel; values are ratings or strengths as in fit().
   */
  scoreInteractions(items: Int32Array, values: Float32Array, out: Float32Array): void;

  /**
   * Optional fast paths for the k best items: the same result as scoring every item (scoreUser or
   * scoreInteractions), setting the items in `exclude` (lists of item indices) to -Infinity and
   * taking topK (math/topk.ts), scores and ties included, but without scoring items the model can
   * show cannot enter. Factor models have them (norm-ordered-topk.ts).
   */
  topKForUser?(userIdx: number, k: number, exclude: readonly ArrayLike<number>[]): Ranked;
  topKForInteractions?(items: Int32Array, values: Float32Array, k: number, exclude: readonly ArrayLike<number>[]): Ranked;

  /**
   * Optional: the state of a copy that folds users in and ranks for them (scoreInteractions,
   * topKForInteractions) exactly as this model does, but knows no trained user; restore it with the
   * factory's `restore(hyperParameters, numUsers, numItems, state)`. It leaves out the user side, so
   * the online update can fold in on a worker thread without copying it (events/fold-ranker.ts).
   */
  foldInState?(): { readonly numUsers: number; readonly state: ModelState };

  /** Predicted score (a rating when predictsRatings) for one pair. */
  predict(userIdx: number, itemIdx: number): number;

  /** Writes item–item similarity of `itemIdx` to every item into `out` (length numItems). */
  scoreSimilarItems(itemIdx: number, out: Float32Array): void;

  /** Everything needed to restore the fitted model with `restore` of its factory. */
  exportState(): ModelState;
}

export interface RecommenderFactory {
  readonly type: ModelType;
  /** Tuned defaults: what a user who passes no hyper-parameter gets. */
  readonly defaults: HyperParameters;
  /** True when the model wants ratings as given (explicit); false when it treats data as implicit strength. */
  readonly explicit: boolean;
  create(hyperParameters: HyperParameters): Recommender;
  restore(hyperParameters: HyperParameters, numUsers: number, numItems: number, state: ModelState): Recommender;
}
