import { describe, expect, it } from 'vitest';
import { InteractionsBuilder, type Dataset } from '../data/interactions.js';
import { generateSynthetic, plantedAffinity } from '../data/synthetic.js';
import { trainModel } from './train.js';
import { buildTrainingMatrix } from './training-matrix.js';

function dataset(rows: [string, string, number, number][], withRating = true): Dataset {
  const b = new InteractionsBuilder({ hasRating: withRating, hasTimestamp: true });
  for (const [u, i, r, t] of rows) b.add(u, i, r, t);
  return { interactions: b.build(), itemMetadata: null, source: 'test' };
}

describe('buildTrainingMatrix', () => {
  it('keeps the most recent rating of a repeated pair, whatever the row order', () => {
    const d = dataset([['u', 'a', 5, 200], ['u', 'a', 1, 100], ['u', 'b', 3, 50]]);
    const m = buildTrainingMatrix(d.interactions, true, 'als');
    expect(Array.from(m.data)).toEqual([5, 3]);
  });

  it('counts repeated events for implicit data without ratings', () => {
    const d = dataset([['u', 'a', 0, 1], ['u', 'a', 0, 2], ['v', 'a', 0, 3]], false);
    const m = buildTrainingMatrix(d.interactions, false, 'ials');
    expect(Array.from(m.data)).toEqual([2, 1]);
  });

  it('refuses an explicit model on data without ratings, naming the fix', () => {
    const d = dataset([['u', 'a', 0, 1]], false);
    expect(() => buildTrainingMatrix(d.interactions, true, 'als')).toThrow(/--model ials/);
  });
});

describe('trainModel', () => {
  it('fills the model info and learns the planted preferences better than popularity', async () => {
    const data = generateSynthetic({ numUsers: 300, numItems: 150, numInteractions: 9000, rank: 4, zipf: 0.5, affinityStrength: 4, seed: 9 });
    const ease = await trainModel(data, { type: 'ease' });
    expect(ease.info.numUsers).toBe(300);
    expect(ease.info.training.dataFingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(ease.info.training.explicitFeedback).toBe(false);
    const pop = await trainModel(data, { type: 'pop' });
    // Mean planted affinity of the top-10 unseen items: the personalized model must pick better ones.
    const planted = data.planted;
    const meanAffinity = (model: typeof ease) => {
      let sum = 0, n = 0;
      for (let u = 0; u < 300; u++) {
        for (const i of model.recommend(u, { k: 10 }).items) {
          sum += plantedAffinity(planted, u, i);
          n++;
        }
      }
      return sum / n;
    };
    expect(meanAffinity(ease)).toBeGreaterThan(meanAffinity(pop) + 0.1);
    expect(ease.info.training.dataFingerprint).toBe(pop.info.training.dataFingerprint);
  });
});
