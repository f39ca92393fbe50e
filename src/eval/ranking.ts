/**
 * @module Ranking metrics over all users, averaged exactly as Microsoft Recommenders'
 * python_evaluation does (precision_at_k, recall_at_k, ndcg_at_k, map, map_at_k with
 * relevancy_method 'top_k'). One pass over the lists with an item stamp array, no per-user allocation,
 * so a trainer can call it every epoch on millions of users.
 *
 * Which users count (as Recommenders' merge_ranking_true_pred):
 * - precision, recall, map and mapAtK average over `users`, the users that have both truth and at
 *   least one recommendation; users on one side only are left out.
 * - ndcg averages over `truthUsers`, every user in the truth, because Recommenders' ndcg_at_k joins the
 *   hits back onto the whole truth frame (an outer merge): a truth user without recommendations adds 0.
 * - When no recommendation hits at all, every metric is 0 (Recommenders returns 0.0 early).
 */
import { checkK, idealDcg } from './metrics.js';
import { forEachList, relevantIndex, type RecommendationLists, type RelevantIndex, type Truth } from './lists.js';

/** Means over users; see the module comment for which users each averages over. Each in [0, 1]. */
export interface RankingMetrics {
  precision: number;
  recall: number;
  ndcg: number;
  /** Recommenders' `map`: average precision normalised by all relevant items. */
  map: number;
  /** Recommenders' `map_at_k`: normalised by min(relevant items, k). */
  mapAtK: number;
  /** Users with both truth and recommendations. */
  users: number;
  /** Users in the truth (the nDCG denominator). */
  truthUsers: number;
  k: number;
}

/**
 * Ranking metrics at cut-off k.
 * @param truth relevant items per user (dense item indices); repeated pairs count once.
 * @param recommendations ranked item indices per user, best first (only the first k count).
 * @param k cut-off ≥ 1.
 * @returns means in [0, 1] and the user counts.
 */
export function rankingMetrics(truth: Truth | RelevantIndex, recommendations: RecommendationLists, k: number): RankingMetrics {
  checkK(k);
  const index = isRelevantIndex(truth) ? truth : relevantIndex(truth);
  const { indptr, items: relevantItems, numUsers } = index;

  // idcgAt[m] = ideal DCG with m relevant items (m ≤ k).
  const idcgAt = new Float64Array(k + 1);
  for (let m = 1; m <= k; m++) idcgAt[m] = idealDcg(m, k);

  // stamp[item] = u + 1 while scoring user u marks relevant items; -(u + 1) marks an item already hit.
  let maxItem = -1;
  for (let p = 0; p < relevantItems.length; p++) if (relevantItems[p] > maxItem) maxItem = relevantItems[p];
  const stamp = new Int32Array(maxItem + 1);

  let users = 0, totalHits = 0;
  let precisionSum = 0, recallSum = 0, ndcgSum = 0, mapSum = 0, mapAtKSum = 0;
  forEachList(recommendations, k, (u, buffer, start, end) => {
    if (u >= numUsers) return;
    const numRelevant = indptr[u + 1] - indptr[u];
    if (numRelevant === 0) return;
    users++;
    const mark = u + 1;
    for (let p = indptr[u]; p < indptr[u + 1]; p++) stamp[relevantItems[p]] = mark;
    let hits = 0, dcg = 0, apSum = 0;
    for (let p = start; p < end; p++) {
      const item = buffer[p];
      if (item >= stamp.length || stamp[item] !== mark) continue;
      stamp[item] = -mark;
      hits++;
      const rank = p - start + 1;
      dcg += 1 / Math.log(1 + rank);
      apSum += hits / rank;
    }
    if (hits === 0) return;
    totalHits += hits;
    precisionSum += hits / k;
    recallSum += hits / numRelevant;
    ndcgSum += dcg / idcgAt[Math.min(numRelevant, k)];
    mapSum += apSum / numRelevant;
    mapAtKSum += apSum / Math.min(numRelevant, k);
  });

  const truthUsers = index.truthUsers;
  if (totalHits === 0) return { precision: 0, recall: 0, ndcg: 0, map: 0, mapAtK: 0, users, truthUsers, k };
  return {
    precision: precisionSum / users,
    recall: recallSum / users,
    ndcg: ndcgSum / truthUsers,
    map: mapSum / users,
    mapAtK: mapAtKSum / users,
    users,
    truthUsers,
    k,
  };
}

function isRelevantIndex(truth: Truth | RelevantIndex): truth is RelevantIndex {
  return !Array.isArray(truth) && 'indptr' in truth;
}
