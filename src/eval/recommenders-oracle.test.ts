/**
 * Cross-checks on random data: the file path (evaluateFiles), the typed-array path (rankingMetrics,
 * ratingMetrics, beyondAccuracyMetrics on dense indices) and a slow row-by-row re-enactment of
 * Recommenders' pandas steps (merge_ranking_true_pred, get_top_k_items, ndcg_at_k's outer merge,
 * sklearn's formulas, the diversity pair merges) must all agree.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng, type Rng } from '../core/rng.js';
import { InteractionsBuilder } from '../data/interactions.js';
import { beyondAccuracyMetrics } from './beyond-accuracy.js';
import { evaluateFiles } from './evaluate-files.js';
import { rankingMetrics } from './ranking.js';
import { ratingMetrics } from './rating.js';

interface TruthRow { user: string; item: string; rating: number }
interface PredRow { user: string; item: string; score: number; prediction: number }

// ---- Slow oracle, following python_evaluation.py step by step on row arrays ----

/** get_top_k_items: sort by (user asc, score desc) stably, head(k) per user, rank = cumcount + 1. */
function topKRows(pred: readonly PredRow[], k: number): (PredRow & { rank: number })[] {
  const sorted = pred
    .map((r, idx) => ({ r, idx }))
    .sort((a, b) => (a.r.user < b.r.user ? -1 : a.r.user > b.r.user ? 1 : 0) || b.r.score - a.r.score || a.idx - b.idx);
  const out: (PredRow & { rank: number })[] = [];
  const taken = new Map<string, number>();
  for (const { r } of sorted) {
    const n = taken.get(r.user) ?? 0;
    if (n >= k) continue;
    taken.set(r.user, n + 1);
    out.push({ ...r, rank: n + 1 });
  }
  return out;
}

function oracleRanking(truth: readonly TruthRow[], pred: readonly PredRow[], k: number) {
  const predUsers = new Set(pred.map((r) => r.user));
  const common = new Set(truth.map((r) => r.user).filter((u) => predUsers.has(u)));
  const trueCommon = truth.filter((r) => common.has(r.user));
  const top = topKRows(pred.filter((r) => common.has(r.user)), k);
  const hits = top.filter((t) => trueCommon.some((r) => r.user === t.user && r.item === t.item));
  if (hits.length === 0) return { precision: 0, recall: 0, ndcg: 0, map: 0, mapAtK: 0, users: common.size };
  const nUsers = common.size;
  const actual = (u: string) => trueCommon.filter((r) => r.user === u).length;
  const hitUsers = [...new Set(hits.map((h) => h.user))];
  const hitCount = (u: string) => hits.filter((h) => h.user === u).length;
  let precision = 0, recall = 0, map = 0, mapAtK = 0;
  for (const u of hitUsers) {
    precision += hitCount(u) / k;
    recall += hitCount(u) / actual(u);
    // rr = (cumcount within the user's hits + 1) / rank, hits in rank order.
    const rr = hits.filter((h) => h.user === u).reduce((s, h, j) => s + (j + 1) / h.rank, 0);
    map += rr / actual(u);
    mapAtK += rr / Math.min(actual(u), k);
  }
  // ndcg_at_k: hits outer-merged onto the whole truth; per truth user dcg / idcg (top k by rating).
  const truthUsers = [...new Set(truth.map((r) => r.user))];
  let ndcgSum = 0;
  for (const u of truthUsers) {
    const rows = truth.filter((r) => r.user === u);
    let dcg = 0;
    for (const r of rows) {
      const h = hits.find((x) => x.user === u && x.item === r.item);
      if (h) dcg += 1 / Math.log(1 + h.rank);
    }
    const irows = rows.slice().sort((a, b) => b.rating - a.rating).slice(0, k);
    const idcg = irows.reduce((s, _r, j) => s + 1 / Math.log(1 + (j + 1)), 0);
    ndcgSum += dcg / idcg;
  }
  return { precision: precision / nUsers, recall: recall / nUsers, ndcg: ndcgSum / truthUsers.length, map: map / nUsers, mapAtK: mapAtK / nUsers, users: nUsers };
}

function oracleRating(truth: readonly TruthRow[], pred: readonly PredRow[]) {
  const y: number[] = [], yHat: number[] = [];
  for (const t of truth) for (const p of pred) if (t.user === p.user && t.item === p.item) { y.push(t.rating); yHat.push(p.prediction); }
  const n = y.length;
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  const diff = y.map((v, i) => v - yHat[i]);
  const yBar = mean(y), dBar = mean(diff);
  const ssRes = diff.reduce((s, d) => s + d * d, 0);
  const ssTot = y.reduce((s, v) => s + (v - yBar) ** 2, 0);
  const varDiff = mean(diff.map((d) => (d - dBar) ** 2));
  return {
    rmse: Math.sqrt(ssRes / n),
    mae: mean(diff.map(Math.abs)),
    r2: 1 - ssRes / ssTot,
    explainedVariance: 1 - varDiff / (ssTot / n),
  };
}

function oracleBeyond(train: readonly { user: string; item: string }[], pred: readonly PredRow[], k: number) {
  const reco = topKRows(pred, k);
  const trainItems = new Set(train.map((r) => r.item));
  const count = (item: string) => train.filter((r) => r.item === item).length;
  const recoItems = new Map<string, number>();
  for (const r of reco) recoItems.set(r.item, (recoItems.get(r.item) ?? 0) + 1);
  let entropy = 0;
  for (const c of recoItems.values()) entropy -= (c / reco.length) * Math.log2(c / reco.length);
  let novelty = 0;
  for (const [item, c] of recoItems) if (trainItems.has(item)) novelty += c * -Math.log2(count(item) / train.length);
  // Pairs per user with i1 < i2; co-occurrence = train users having both; cosine by √counts.
  const usersOf = (item: string) => new Set(train.filter((r) => r.item === item).map((r) => r.user));
  const perUser = new Map<string, number[]>();
  for (const a of reco) {
    for (const b of reco) {
      if (a.user !== b.user || !(a.item < b.item)) continue;
      const ua = usersOf(a.item), ub = usersOf(b.item);
      const co = [...ua].filter((u) => ub.has(u)).length;
      const sim = co === 0 ? 0 : co / Math.sqrt(ua.size * ub.size);
      perUser.set(a.user, [...(perUser.get(a.user) ?? []), sim]);
    }
  }
  const divs = [...perUser.values()].map((sims) => 1 - sims.reduce((s, v) => s + v, 0) / sims.length);
  return {
    catalogCoverage: recoItems.size / trainItems.size,
    distributionalCoverage: entropy,
    novelty: novelty / reco.length,
    diversity: divs.reduce((s, v) => s + v, 0) / divs.length,
  };
}

// ---- Random data with ties, one-sided users and a skewed item popularity ----

function randomData(rng: Rng) {
  const numUsers = 40, numItems = 50;
  const item = () => `i${Math.min(rng.int(numItems), rng.int(numItems))}`; // skew towards low ids
  const train: { user: string; item: string }[] = [];
  const truth: TruthRow[] = [];
  const pred: PredRow[] = [];
  for (let u = 0; u < numUsers; u++) {
    const user = `u${u}`;
    const seen = new Set<string>();
    const draw = (n: number) => {
      const out: string[] = [];
      for (let tries = 0; out.length < n && tries < 500; tries++) {
        const it = item();
        if (!seen.has(it)) { seen.add(it); out.push(it); }
      }
      return out;
    };
    for (const it of draw(2 + rng.int(12))) train.push({ user, item: it });
    // Most users also have the popular item p (still recommendable), so some item pairs have
    // user lists of very different lengths (the binary-search intersection path).
    if (u % 10 !== 0) train.push({ user, item: 'p' });
    const inTruth = u % 7 !== 3, inPred = u % 5 !== 2;
    const truthItems = inTruth ? draw(1 + rng.int(8)) : [];
    for (const it of truthItems) truth.push({ user, item: it, rating: 1 + rng.int(5) });
    if (inPred) {
      // Predictions: some truth items plus fresh ones; scores from a coarse grid so ties happen.
      const candidates = [...truthItems.filter(() => rng.next() < 0.6), ...draw(rng.int(15)), ...(u % 3 === 0 ? ['p'] : [])];
      rng.shuffle(candidates);
      for (const it of candidates) pred.push({ user, item: it, score: rng.int(6) / 5, prediction: 1 + rng.next() * 4 });
    }
  }
  rng.shuffle(pred);
  return { train, truth, pred };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rtrec-oracle-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('file path, typed-array path and the Recommenders re-enactment agree', () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}`, async () => {
      const { train, truth, pred } = randomData(createRng(seed));
      const truthPath = join(dir, `truth${seed}.csv`), predPath = join(dir, `pred${seed}.csv`), trainPath = join(dir, `train${seed}.csv`);
      await writeFile(truthPath, ['userId,itemId,rating,timestamp', ...truth.map((r, i) => `${r.user},${r.item},${r.rating},${1000 + i}`)].join('\n'));
      await writeFile(predPath, ['userId,itemId,score,prediction', ...pred.map((r) => `${r.user},${r.item},${r.score},${r.prediction}`)].join('\n'));
      await writeFile(trainPath, ['userId,itemId', ...train.map((r) => `${r.user},${r.item}`)].join('\n'));

      // Typed-array path: dense indices of our own making.
      const b = (hasRating: boolean) => new InteractionsBuilder({ hasRating, hasTimestamp: false, users: ids.users, items: ids.items });
      const ids = new InteractionsBuilder({ hasRating: false, hasTimestamp: false });
      const truthB = b(true);
      for (const r of truth) truthB.add(r.user, r.item, r.rating);
      const trainB = b(false);
      for (const r of train) trainB.add(r.user, r.item);
      const predPairs = {
        length: pred.length,
        user: Int32Array.from(pred, (r) => ids.users.getOrAdd(r.user)),
        item: Int32Array.from(pred, (r) => ids.items.getOrAdd(r.item)),
        value: Float64Array.from(pred, (r) => r.prediction),
      };

      for (const k of [1, 3, 10]) {
        const fromFiles = await evaluateFiles({ truth: truthPath, pred: predPath, train: trainPath, k, progress: false });
        const expectedRanking = oracleRanking(truth, pred, k);
        const expectedBeyond = oracleBeyond(train, pred, k);
        const lists: Int32Array[] = [];
        for (const r of topKRows(pred, k)) {
          const u = ids.users.indexOf(r.user);
          lists[u] = Int32Array.from([...(lists[u] ?? []), ids.items.indexOf(r.item)]);
        }
        const typed = rankingMetrics(truthB.build(), lists, k);
        const typedBeyond = beyondAccuracyMetrics(trainB.build(), lists, k);
        for (const key of ['precision', 'recall', 'ndcg', 'map', 'mapAtK'] as const) {
          expect(fromFiles[key], `${key}@${k}`).toBeCloseTo(expectedRanking[key], 10);
          expect(typed[key], `typed ${key}@${k}`).toBeCloseTo(expectedRanking[key], 10);
        }
        expect(fromFiles.users).toBe(expectedRanking.users);
        expect(typed.users).toBe(expectedRanking.users);
        if (k === 1) {
          // One item per list: no pairs, so Recommenders' mean over users is NaN (null in the report).
          expect(expectedBeyond.diversity).toBeNaN();
          expect(typedBeyond.diversity).toBeNaN();
          expect(fromFiles.diversity).toBeNull();
        }
        for (const key of ['catalogCoverage', 'distributionalCoverage', 'novelty', ...(k > 1 ? (['diversity'] as const) : [])] as const) {
          expect(fromFiles[key], `${key}@${k}`).toBeCloseTo(expectedBeyond[key], 10);
          expect(typedBeyond[key], `typed ${key}@${k}`).toBeCloseTo(expectedBeyond[key], 10);
        }
        const expectedRating = oracleRating(truth, pred);
        const typedRating = ratingMetrics(truthB.build(), predPairs);
        for (const key of ['rmse', 'mae', 'r2', 'explainedVariance'] as const) {
          expect(fromFiles[key], key).toBeCloseTo(expectedRating[key], 10);
          expect(typedRating[key], `typed ${key}`).toBeCloseTo(expectedRating[key], 10);
        }
        // Sanity: the random data exercises hits, ties and one-sided users.
        expect(expectedRanking.precision).toBeGreaterThan(0);
      }
    });
  }
});
