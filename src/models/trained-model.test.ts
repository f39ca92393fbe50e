import { describe, expect, it } from 'vitest';
import { createRng } from '../core/rng.js';
import { generateSynthetic } from '../data/synthetic.js';
import { trainModel } from '../jobs/train.js';
import { topK } from '../math/topk.js';
import type { Ranked } from './recommender.js';
import type { TrainedModel } from './trained-model.js';

/** The definition the fast paths must meet: score every item, mask exclusions with -Infinity, topK. */
function scoredInFull(scores: Float32Array, k: number, exclude: readonly ArrayLike<number>[]): { items: number[]; scores: number[] } {
  for (const list of exclude) for (const i of Array.from(list)) if (i >= 0 && i < scores.length) scores[i] = -Infinity;
  return plain(topK(scores, k));
}

function plain(r: Ranked): { items: number[]; scores: number[] } {
  return { items: Array.from(r.items), scores: Array.from(r.scores) };
}

async function trained(type: 'als' | 'ials'): Promise<TrainedModel> {
  const data = generateSynthetic({ numUsers: 300, numItems: 2_000, numInteractions: 12_000, rank: 8, explicit: type === 'als', seed: 3 });
  return trainModel(data, { type, hyperParameters: { rank: 16, iterations: 5 } });
}

describe('TrainedModel top-k of factor models', () => {
  for (const type of ['als', 'ials'] as const) {
    it(`${type}: recommend and recommendFromInteractions equal scoring every item, with seen items and filters excluded`, async () => {
      const model = await trained(type);
      expect(model.recommender.topKForUser).toBeTypeOf('function');
      const rng = createRng(1);
      const scores = new Float32Array(model.numItems);
      const { indptr, indices } = model.seen;
      for (let t = 0; t < 40; t++) {
        const u = rng.int(model.numUsers);
        const k = [10, 110][t % 2];
        const seen = indices.slice(indptr[u], indptr[u + 1]);
        const banned = Int32Array.from({ length: 5 }, () => rng.int(model.numItems));

        model.recommender.scoreUser(u, scores);
        expect(plain(model.recommend(u, { k, filter: { exclude: banned } }))).toEqual(scoredInFull(scores, k, [seen, banned]));
        model.recommender.scoreUser(u, scores);
        expect(plain(model.recommend(u, { k, excludeSeen: false }))).toEqual(scoredInFull(scores, k, []));

        const items = Int32Array.from([...seen, rng.int(model.numItems)]);
        const strengths = Float32Array.from(items, () => 1 + rng.int(4));
        model.recommender.scoreInteractions(items, strengths, scores);
        expect(plain(model.recommendFromInteractions(items, strengths, { k }))).toEqual(scoredInFull(scores, k, [items]));
      }
    });
  }

  it('answers an "only" filter by scoring every item', async () => {
    const model = await trained('ials');
    const only = Int32Array.of(5, 17, 300, 1999);
    const got = model.recommend(0, { k: 3, excludeSeen: false, filter: { only } });
    const scores = new Float32Array(model.numItems);
    model.recommender.scoreUser(0, scores);
    const allowed = new Set(only);
    expect(plain(got)).toEqual(scoredInFull(scores, 3, [Int32Array.from(scores.keys()).filter((i) => !allowed.has(i))]));
  });
});
