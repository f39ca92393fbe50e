/**
 * @module A real explicit-ALS model for event tests: fitted by the production trainer on a small
 * planted low-rank rating matrix (made-up data), wrapped with made-up ids `u0…`, `i0…`. Tests compare
 * what the online update writes against independent computations on the same item factors.
 */
import { IdMap } from '../../core/ids.js';
import { solveDense } from '../../math/reference.js';
import { alsFactory } from '../../models/als.js';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION } from '../../models/manifest.js';
import { plantedRatings } from '../../models/mf-synthetic.js';
import { TrainedModel } from '../../models/trained-model.js';

export const ALS_RANK = 4;
export const ALS_REG = 0.05;

export interface ExplicitAls {
  readonly model: TrainedModel;
  /** Row-major [items × ALS_RANK]. */
  readonly itemFactors: Float32Array;
}

export async function explicitAlsModel(users = 60, items = 50, seed = 5): Promise<ExplicitAls> {
  const data = plantedRatings({ users, items, rank: 3, density: 0.3, noise: 0.2, testFraction: 0, seed });
  const hyperParameters = { ...alsFactory.defaults, rank: ALS_RANK, iterations: 10, reg: ALS_REG };
  const recommender = alsFactory.create(hyperParameters);
  await recommender.fit(data.train, { threads: 1 });
  const { itemFactors } = recommender.exportState().arrays as { itemFactors: Float32Array };
  const model = new TrainedModel({
    info: {
      format: MODEL_FORMAT,
      formatVersion: MODEL_FORMAT_VERSION,
      type: 'als',
      hyperParameters,
      createdAt: `2026-01-01T00:00:0${seed % 10}.000Z`,
      rtrecVersion: 'test',
      numUsers: users,
      numItems: items,
      numInteractions: data.train.indptr[users],
      training: { source: 'planted', dataFingerprint: `planted-${seed}`, explicitFeedback: true, seconds: 0, iterations: 10, engine: 'embedded' },
    },
    recommender,
    users: IdMap.fromArray(Array.from({ length: users }, (_, u) => `u${u}`)),
    items: IdMap.fromArray(Array.from({ length: items }, (_, i) => `i${i}`)),
    seen: data.train,
    itemMetadata: null,
  });
  return { model, itemFactors };
}

/**
 * Independent reference: the explicit ALS user step (ALS-WR: (YᵀY + reg·n·I) x = Yᵀr over the rated
 * items) solved by Gaussian elimination, then every item scored as x·y_i, rated items excluded.
 * Returns item indices and scores of the best `k`, best first.
 */
export function referenceFoldIn(itemFactors: Float32Array, numItems: number, rated: ReadonlyMap<number, number>, k: number, exclude: ReadonlySet<number> = new Set()): { items: number[]; scores: number[] } {
  const r = ALS_RANK;
  const a = new Float64Array(r * r);
  const b = new Float64Array(r);
  for (const [item, value] of rated) {
    for (let i = 0; i < r; i++) {
      b[i] += value * itemFactors[item * r + i];
      for (let j = 0; j < r; j++) a[i * r + j] += itemFactors[item * r + i] * itemFactors[item * r + j];
    }
  }
  for (let i = 0; i < r; i++) a[i * r + i] += ALS_REG * rated.size;
  const x = solveDense(a, r, b);
  const scored: { item: number; score: number }[] = [];
  for (let item = 0; item < numItems; item++) {
    if (rated.has(item) || exclude.has(item)) continue;
    let s = 0;
    for (let j = 0; j < r; j++) s += x[j] * itemFactors[item * r + j];
    scored.push({ item, score: s });
  }
  scored.sort((p, q) => q.score - p.score || p.item - q.item);
  const top = scored.slice(0, k);
  return { items: top.map((t) => t.item), scores: top.map((t) => t.score) };
}
