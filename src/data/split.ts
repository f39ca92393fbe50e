/**
 * @module Train/test splitting of an interaction log: random, stratified per user or item, chronological
 * per user or item, and leave-last-n-out. Every split is deterministic for a given seed, keeps the
 * input's row order within train and test, and shares the input's id maps (indices stay comparable).
 *
 * The stratified and chronological rules follow Microsoft Recommenders' `python_stratified_split` and
 * `python_chrono_split` (recommenders/datasets/python_splitters.py, `_do_stratification`): rows are
 * grouped by user (or item), ordered within the group (randomly, or by timestamp), given the rank
 * r / c (r = 1-based position, c = group size), and go to train iff r / c <= ratio. So a group of c
 * rows puts the largest r with r / c <= ratio into train — 3 of 4, 2 of 3, 1 of 2 and 0 of 1 at
 * ratio 0.75: a single-interaction user lands wholly in test, as in Recommenders (use minRating to
 * drop such users). The comparison is the same float64 division and compare, so per-group counts
 * are identical to Recommenders'. What is not identical: which rows are picked (Recommenders draws
 * numpy random keys per row and sorts; we Fisher–Yates shuffle each group with xoshiro128**, an
 * equally uniform permutation from a different generator), the output row order (Recommenders
 * returns rows sorted by group; we keep input order), and ratio lists (multi-way splits) are not
 * supported. Recommenders' test side is `ratio < r / c <= ratio + (1 - ratio)`; we use `r / c > ratio`,
 * which is the same except when that float sum rounds below 1 (where Recommenders drops rows).
 */
import { RecError } from '../core/errors.js';
import { createRng, DEFAULT_SEED } from '../core/rng.js';
import { selectRows, type Interactions } from './interactions.js';
import { groupRows, RowList, shuffleGroups, sortGroupsByTime, type RowGroups } from './split-groups.js';

export const SPLIT_STRATEGIES = ['random', 'stratified', 'chronological', 'leave-last-n-out'] as const;
export type SplitStrategy = (typeof SPLIT_STRATEGIES)[number];

export const SPLIT_BY = ['user', 'item'] as const;
export type SplitBy = (typeof SPLIT_BY)[number];

/** Fraction of rows (or of each group's rows) that go to train, as Recommenders' default. */
export const DEFAULT_SPLIT_RATIO = 0.75;

export interface SplitOptions {
  strategy: SplitStrategy;
  /** Train fraction, strictly between 0 and 1 (random, stratified, chronological); default 0.75. */
  ratio?: number;
  /** Group by user or item (stratified, chronological); default user. */
  by?: SplitBy;
  /**
   * Groups (users or items, per `by`) with fewer interactions are dropped from both sides before
   * splitting (stratified, chronological; Recommenders' min_rating); whole number >= 1, default 1.
   */
  minRating?: number;
  /** Interactions per user held out (leave-last-n-out); whole number >= 1, default 1. */
  n?: number;
  /** Seed of the shuffles (random, stratified); default 42. */
  seed?: number;
}

export interface Split {
  readonly train: Interactions;
  readonly test: Interactions;
}

/**
 * Splits interactions into train and test.
 * - `random`: exactly round(ratio · n) rows to train, a seeded uniform sample (sklearn's
 *   train_test_split, which Recommenders' python_random_split calls, floors instead of rounding).
 * - `stratified`: within each user (or item), a seeded shuffle, then Recommenders' rank rule above.
 * - `chronological`: within each user (or item), oldest first, then the same rule: the earliest
 *   fraction trains, so every test row of a group is at least as late as its train rows.
 * - `leave-last-n-out`: each user's n latest interactions go to test. A user with n or fewer
 *   interactions stays wholly in train, so every test user has history to recommend from and no
 *   user loses all training data.
 * Timestamp ties keep input row order (the later row counts as later).
 * @returns train and test with the input's id maps, rows in input order; rows dropped by minRating
 *   are in neither, otherwise every input row is in exactly one side. Either side may be empty.
 * @throws RTREC_ERR_SPLIT_INVALID for an empty input, a ratio outside (0, 1), n or minRating not a
 *   whole number >= 1, an unknown strategy or grouping, missing timestamps for chronological and
 *   leave-last-n-out, or nothing left after the minRating filter.
 */
export function splitInteractions(x: Interactions, options: SplitOptions): Split {
  if (x.length === 0) invalid('cannot split an empty interaction set');
  const rows = chooseTrainRows(x, options);
  return { train: selectRows(x, rows.train), test: selectRows(x, rows.test) };
}

/**
 * Carves a validation set out of a training set for tuning: the same split, applied to `train`, so a
 * test set stays untouched. The strategy should usually match the one that produced `train`.
 * @returns `train` is the reduced training set, `validation` the held-out part; both share the id maps.
 * @throws as splitInteractions.
 */
export function carveValidation(train: Interactions, options: SplitOptions): { train: Interactions; validation: Interactions } {
  const split = splitInteractions(train, options);
  return { train: split.train, validation: split.test };
}

interface RowSplit {
  train: Int32Array;
  test: Int32Array;
}

function chooseTrainRows(x: Interactions, options: SplitOptions): RowSplit {
  const strategy = options.strategy;
  switch (strategy) {
    case 'random':
      return randomRows(x.length, checkRatio(options.ratio), options.seed ?? DEFAULT_SEED);
    case 'stratified':
    case 'chronological': {
      const ratio = checkRatio(options.ratio);
      const minRating = checkWholeNumber('minRating', options.minRating ?? 1);
      const by = checkBy(options.by);
      if (strategy === 'chronological') requireTimestamps(x, strategy);
      const groups = byKey(x, by);
      if (strategy === 'stratified') shuffleGroups(groups, createRng(options.seed ?? DEFAULT_SEED));
      else sortGroupsByTime(groups, x.timestamp!);
      return rankRuleRows(groups, ratio, minRating, by);
    }
    case 'leave-last-n-out': {
      const n = checkWholeNumber('n', options.n ?? 1);
      requireTimestamps(x, strategy);
      const groups = byKey(x, 'user');
      sortGroupsByTime(groups, x.timestamp!);
      return lastNRows(groups, n);
    }
    default:
      return invalid(`unknown split strategy ${JSON.stringify(strategy)}; expected one of ${SPLIT_STRATEGIES.join(', ')}`);
  }
}

/**
 * Selection sampling (Knuth, TAOCP vol. 2, 3.4.2 Algorithm S): row i trains with probability
 * (train rows still needed) / (rows left), which picks exactly `cut` rows, every subset equally
 * likely, in one sequential pass with the rows already in order.
 */
function randomRows(n: number, ratio: number, seed: number): RowSplit {
  const rng = createRng(seed);
  const cut = Math.round(ratio * n);
  const train = new Int32Array(cut);
  const test = new Int32Array(n - cut);
  let t = 0;
  let s = 0;
  for (let i = 0; i < n; i++) {
    if ((n - i) * rng.next() < cut - t) train[t++] = i;
    else test[s++] = i;
  }
  return { train, test };
}

/** Recommenders' rule: the row at 1-based position r of a group of c trains iff r / c <= ratio. */
function rankRuleRows(groups: RowGroups, ratio: number, minRating: number, by: SplitBy): RowSplit {
  const { offsets, rows } = groups;
  const train = new RowList(rows.length);
  const test = new RowList(rows.length);
  for (let k = 0; k + 1 < offsets.length; k++) {
    const start = offsets[k];
    const count = offsets[k + 1] - start;
    if (count < minRating) continue;
    for (let p = 0; p < count; p++) {
      if ((p + 1) / count <= ratio) train.push(rows[start + p]);
      else test.push(rows[start + p]);
    }
  }
  if (train.length + test.length === 0) invalid(`no ${by} has at least ${minRating} interactions (minRating), so nothing is left to split`);
  return { train: train.toSortedArray(), test: test.toSortedArray() };
}

function lastNRows(groups: RowGroups, n: number): RowSplit {
  const { offsets, rows } = groups;
  const train = new RowList(rows.length);
  const test = new RowList(rows.length);
  for (let k = 0; k + 1 < offsets.length; k++) {
    const start = offsets[k];
    const end = offsets[k + 1];
    // Users with n or fewer interactions keep them all for training (see splitInteractions).
    const cut = end - start > n ? end - n : end;
    for (let p = start; p < cut; p++) train.push(rows[p]);
    for (let p = cut; p < end; p++) test.push(rows[p]);
  }
  return { train: train.toSortedArray(), test: test.toSortedArray() };
}

function byKey(x: Interactions, by: SplitBy): RowGroups {
  return by === 'user' ? groupRows(x.user, x.users.size) : groupRows(x.item, x.items.size);
}

function checkRatio(ratio: number | undefined): number {
  const r = ratio ?? DEFAULT_SPLIT_RATIO;
  if (typeof r !== 'number' || !(r > 0 && r < 1)) {
    invalid(`ratio is the train fraction and must be strictly between 0 and 1, got ${String(r)}`);
  }
  return r;
}

function checkWholeNumber(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) invalid(`${name} must be a whole number >= 1, got ${String(value)}`);
  return value;
}

function checkBy(by: SplitBy | undefined): SplitBy {
  const b = by ?? 'user';
  if (!(SPLIT_BY as readonly string[]).includes(b)) invalid(`by must be one of ${SPLIT_BY.join(', ')}, got ${JSON.stringify(b)}`);
  return b;
}

function requireTimestamps(x: Interactions, strategy: SplitStrategy): void {
  if (x.timestamp === null) {
    invalid(`the ${strategy} split orders each user's interactions by time, but the data has no timestamp column; use the random or stratified strategy, or load a file with timestamps`);
  }
}

function invalid(message: string): never {
  throw new RecError('RTREC_ERR_SPLIT_INVALID', message);
}
