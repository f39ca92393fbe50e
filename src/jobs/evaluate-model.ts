/**
 * @module Evaluates a trained model in-process on a test set that shares its id maps: top-k with
 * seen items removed for every test user the model knows (ranking metrics), rating predictions on
 * the known (user, item) test pairs when the model predicts ratings (rating metrics; unknown pairs
 * dropped as Spark's coldStartStrategy='drop'), and beyond-accuracy metrics of the same lists
 * against the training interactions — the Microsoft Recommenders benchmark protocol.
 */
import { createProgress, progressEnabledByDefault } from '../core/progress.js';
import type { Interactions } from '../data/interactions.js';
import { beyondAccuracyMetrics } from '../eval/beyond-accuracy.js';
import { rankingMetrics } from '../eval/ranking.js';
import { ratingMetrics } from '../eval/rating.js';
import type { TrainedModel } from '../models/trained-model.js';

export interface EvaluateModelOptions {
  readonly k: number;
  readonly showProgress?: boolean;
  /** Remove training items from the lists (default true, as the benchmark protocol does). */
  readonly excludeSeen?: boolean;
}

/**
 * Metrics keyed as `rtrec evaluate --json` names them (precision, recall, ndcg, map, mapAtK, and
 * rmse, mae, r2, explainedVariance for rating models, plus catalogCoverage, distributionalCoverage,
 * novelty, diversity, users, k).
 * @param test interactions indexed with the model's own id maps (load it with `users`/`items` of the model).
 */
export function evaluateModel(model: TrainedModel, test: Interactions, options: EvaluateModelOptions): Record<string, number> {
  const { k } = options;
  const lists = recommendForTestUsers(model, test, k, options);
  const ranking = rankingMetrics(truthForKnownUsers(model, test), lists, k);
  const beyond = beyondAccuracyMetrics(trainingInteractions(model, test), lists, k);
  const metrics: Record<string, number> = {
    precision: ranking.precision,
    recall: ranking.recall,
    ndcg: ranking.ndcg,
    map: ranking.map,
    mapAtK: ranking.mapAtK,
    ...beyond,
    users: ranking.users,
    k,
  };
  if (model.recommender.predictsRatings && test.rating) {
    const rating = ratingMetrics(test, predictKnownPairs(model, test));
    Object.assign(metrics, { rmse: rating.rmse, mae: rating.mae, r2: rating.r2, explainedVariance: rating.explainedVariance, ratedPairs: rating.pairs });
  }
  return metrics;
}

function recommendForTestUsers(model: TrainedModel, test: Interactions, k: number, options: EvaluateModelOptions): (Int32Array | undefined)[] {
  const inTest = new Uint8Array(test.users.size);
  for (let r = 0; r < test.length; r++) inTest[test.user[r]] = 1;
  const users: number[] = [];
  for (let u = 0; u < Math.min(model.numUsers, inTest.length); u++) if (inTest[u]) users.push(u);
  const lists: (Int32Array | undefined)[] = new Array<Int32Array | undefined>(test.users.size);
  const scratch = new Float32Array(model.numItems);
  const bar = createProgress('recommend', users.length, { enabled: (options.showProgress ?? true) && progressEnabledByDefault() });
  for (let n = 0; n < users.length; n++) {
    lists[users[n]] = model.recommend(users[n], { k, excludeSeen: options.excludeSeen ?? true }, scratch).items;
    if ((n & 127) === 127) bar.update(n + 1);
  }
  bar.stop();
  return lists;
}

/**
 * Test rows as per-user relevant sets. Every test user counts, including users the model never saw
 * (they have no list, so they add 0 to nDCG and are left out of the others, as in Recommenders).
 * Test items unknown to the model stay relevant: a model that cannot recommend them is rightly penalised.
 */
function truthForKnownUsers(_model: TrainedModel, test: Interactions): Interactions {
  return test;
}

function trainingInteractions(model: TrainedModel, test: Interactions): Interactions {
  const { indptr, indices } = model.seen;
  const user = new Int32Array(indices.length);
  for (let u = 0; u < model.numUsers; u++) user.fill(u, indptr[u], indptr[u + 1]);
  return { users: test.users, items: test.items, length: indices.length, user, item: indices, rating: null, timestamp: null };
}

function predictKnownPairs(model: TrainedModel, test: Interactions) {
  const user: number[] = [], item: number[] = [], value: number[] = [];
  for (let r = 0; r < test.length; r++) {
    const p = model.predict(test.user[r], test.item[r]);
    if (Number.isNaN(p)) continue;
    user.push(test.user[r]);
    item.push(test.item[r]);
    value.push(p);
  }
  return { length: user.length, user: Int32Array.from(user), item: Int32Array.from(item), value: Float64Array.from(value) };
}
