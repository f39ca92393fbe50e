/**
 * @module File-level evaluation behind `rtrec evaluate`: reads truth, predictions and (optionally)
 * train files into one id space (formats in `eval-inputs.ts`), turns score predictions into top-k
 * lists and rating predictions into joined pairs, and computes the metrics of `ranking.ts`,
 * `rating.ts` and `beyond-accuracy.ts`.
 * Which metrics apply follows the predictions header: `score`/`rank` → ranking (and beyond-accuracy
 * with train), `prediction` → rating; both when it has both.
 */
import { atLocation, RecError } from '../core/errors.js';
import { createProgress, type Progress } from '../core/progress.js';
import { beyondAccuracyMetrics } from './beyond-accuracy.js';
import { createIdSpace, rankedLists, readInteractionsFile, readPredictionsFile } from './eval-inputs.js';
import { checkK, DEFAULT_K } from './metrics.js';
import { rankingMetrics } from './ranking.js';
import { ratingMetrics } from './rating.js';

/**
 * The metrics, keyed as `rtrec evaluate --json` prints them. A metric the predictions cannot give
 * (ranking from rating-only predictions or the reverse), or that is undefined (NaN), is null. The four
 * beyond-accuracy keys are present only when a train file was given.
 */
export interface EvaluationReport {
  precision: number | null;
  recall: number | null;
  ndcg: number | null;
  map: number | null;
  mapAtK: number | null;
  rmse: number | null;
  mae: number | null;
  r2: number | null;
  explainedVariance: number | null;
  catalogCoverage?: number | null;
  distributionalCoverage?: number | null;
  novelty?: number | null;
  diversity?: number | null;
  /** Cut-off used for ranking metrics. */
  k: number;
  /** Users evaluated: with both truth and recommendations (ranking), else with joined rating pairs. */
  users: number;
}

export interface EvaluateFilesOptions {
  /** Held-out interactions, any format the data loader reads (e.g. CSV `userId,itemId[,rating][,timestamp]`). */
  truth: string;
  /** Predictions: `userId,itemId,score[,rank]` and/or `userId,itemId,prediction`. */
  pred: string;
  /** Training interactions (same formats as `truth`), for the beyond-accuracy metrics. */
  train?: string;
  /** Cut-off, default {@link DEFAULT_K}. */
  k?: number;
  /** Progress bars while reading and computing diversity (default: when stderr is a terminal). */
  progress?: boolean;
}

/**
 * Reads the files and computes every applicable metric.
 * @throws RTREC_ERR_DATA_NOT_FOUND for an unreadable file; RTREC_ERR_EVAL_INPUT (naming file:line
 *   where there is one) for bad input, rating predictions without truth ratings, or rating predictions
 *   that match no truth pair.
 */
export async function evaluateFiles(options: EvaluateFilesOptions): Promise<EvaluationReport> {
  const k = options.k ?? DEFAULT_K;
  checkK(k);
  const read = options.progress === undefined ? {} : { progress: options.progress };
  const ids = createIdSpace();
  const truth = await readInteractionsFile(options.truth, ids, read);
  const pred = await readPredictionsFile(options.pred, ids, read);
  const train = options.train === undefined ? undefined : await readInteractionsFile(options.train, ids, read);

  let ranking: Pick<EvaluationReport, 'precision' | 'recall' | 'ndcg' | 'map' | 'mapAtK'> | undefined;
  let beyond: Pick<EvaluationReport, 'catalogCoverage' | 'distributionalCoverage' | 'novelty' | 'diversity'> | undefined;
  let rating: Pick<EvaluationReport, 'rmse' | 'mae' | 'r2' | 'explainedVariance'> | undefined;
  let users = 0;
  if (pred.score || pred.rank) {
    const lists = rankedLists(pred, k);
    const metrics = rankingMetrics(truth, lists, k);
    ranking = pick(metrics, ['precision', 'recall', 'ndcg', 'map', 'mapAtK']);
    users = metrics.users;
    if (train) {
      let bar: Progress | undefined;
      const onProgress = (done: number, total: number) => {
        bar ??= createProgress('diversity', total, options.progress === undefined ? {} : { enabled: options.progress });
        bar.update(done);
      };
      try {
        beyond = pick(beyondAccuracyMetrics(train, lists, k, { onProgress }), ['catalogCoverage', 'distributionalCoverage', 'novelty', 'diversity']);
      } finally {
        bar?.stop();
      }
    }
  }
  if (pred.prediction) {
    if (!truth.rating) {
      throw new RecError('RTREC_ERR_EVAL_INPUT', atLocation(options.truth, undefined, 'rating predictions need a rating column in the truth file'), { details: { file: options.truth } });
    }
    const metrics = ratingMetrics(truth, { length: pred.length, user: pred.user, item: pred.item, value: pred.prediction });
    if (metrics.pairs === 0) {
      throw new RecError('RTREC_ERR_EVAL_INPUT', atLocation(options.pred, undefined, `no prediction matches a (userId, itemId) pair of ${options.truth}`), { details: { file: options.pred } });
    }
    rating = pick(metrics, ['rmse', 'mae', 'r2', 'explainedVariance']);
    if (!ranking) users = metrics.users;
  }
  // Built in one literal so the JSON keys come out in the documented order.
  return {
    precision: ranking?.precision ?? null,
    recall: ranking?.recall ?? null,
    ndcg: ranking?.ndcg ?? null,
    map: ranking?.map ?? null,
    mapAtK: ranking?.mapAtK ?? null,
    rmse: rating?.rmse ?? null,
    mae: rating?.mae ?? null,
    r2: rating?.r2 ?? null,
    explainedVariance: rating?.explainedVariance ?? null,
    ...(train
      ? {
          catalogCoverage: beyond?.catalogCoverage ?? null,
          distributionalCoverage: beyond?.distributionalCoverage ?? null,
          novelty: beyond?.novelty ?? null,
          diversity: beyond?.diversity ?? null,
        }
      : {}),
    k,
    users,
  };
}

/** The named numbers of `source`, NaN turned into null (JSON has no NaN). */
function pick<T extends object, K extends keyof T & string>(source: T, keys: readonly K[]): Record<K, number | null> {
  const out = {} as Record<K, number | null>;
  for (const key of keys) {
    const v = source[key] as unknown as number;
    out[key] = Number.isFinite(v) ? v : null;
  }
  return out;
}
