import { describe, it, expect } from 'vitest';
import { hasEntry } from '../core/csr.js';
import { solveDense } from '../math/reference.js';
import { ialsFactory } from './ials.js';
import { plantedInteractions } from './mf-synthetic.js';
import type { Recommender } from './recommender.js';

const data = plantedInteractions({ users: 160, items: 120, groups: 6, perUser: 8, crossRate: 0.1, seed: 4 });

async function fitted(hp: Record<string, number> = {}, threads = 1): Promise<Recommender> {
  const model = ialsFactory.create({ rank: 8, iterations: 10, reg: 0.1, alpha: 5, ...hp });
  await model.fit(data.train, { threads });
  return model;
}

// Mean over users of P(score(held-out positive) > score(random unseen item)).
function heldOutAuc(model: Recommender): number {
  const scores = new Float32Array(model.numItems);
  let total = 0;
  for (let u = 0; u < model.numUsers; u++) {
    model.scoreUser(u, scores);
    const pos = scores[data.heldOut[u]];
    let wins = 0, count = 0;
    for (let i = 0; i < model.numItems; i++) {
      if (i === data.heldOut[u] || hasEntry(data.train, u, i)) continue;
      wins += scores[i] < pos ? 1 : scores[i] === pos ? 0.5 : 0;
      count++;
    }
    total += wins / count;
  }
  return total / model.numUsers;
}

describe('implicit ALS', () => {
  it('ranks held-out positives of a planted community structure far above random items', async () => {
    const iterations: number[] = [];
    const model = ialsFactory.create({ rank: 8, iterations: 10, reg: 0.1, alpha: 5 });
    await model.fit(data.train, { threads: 1, onIteration: (e) => iterations.push(e.iteration) });
    expect(heldOutAuc(model)).toBeGreaterThan(0.9);
    expect(iterations).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(model.predictsRatings).toBe(false);
    expect(ialsFactory.explicit).toBe(false);
  });

  it('fold-in is the exact solve of the implicit objective against the item factors', async () => {
    const model = await fitted();
    const { itemFactors } = model.exportState().arrays;
    const k = 8, reg = 0.1, alpha = 5, n = model.numItems;
    // A user who liked items 1 and 7 (strengths 2, 1) and disliked item 12 (strength −3).
    const items = Int32Array.from([1, 7, 12]);
    const values = Float32Array.from([2, 1, -3]);
    const conf = new Array<number>(n).fill(1);
    const pref = new Array<number>(n).fill(0);
    items.forEach((item, q) => {
      conf[item] = 1 + alpha * Math.abs(values[q]);
      pref[item] = values[q] > 0 ? 1 : 0;
    });
    const a = new Array<number>(k * k).fill(0);
    const b = new Array<number>(k).fill(0);
    for (let it = 0; it < n; it++) {
      for (let i = 0; i < k; i++) {
        b[i] += conf[it] * pref[it] * itemFactors[it * k + i];
        for (let j = 0; j < k; j++) a[i * k + j] += conf[it] * itemFactors[it * k + i] * itemFactors[it * k + j];
      }
    }
    for (let i = 0; i < k; i++) a[i * k + i] += reg;
    const x = solveDense(a, k, b);
    const out = new Float32Array(n);
    model.scoreInteractions(items, values, out);
    for (let it = 0; it < n; it++) {
      let s = 0;
      for (let j = 0; j < k; j++) s += x[j] * itemFactors[it * k + j];
      expect(out[it]).toBeCloseTo(s, 4);
    }
  });

  it('fold-in of a training user is close to its trained factors', async () => {
    const model = await fitted({ iterations: 15 });
    const { indptr, indices, data: values } = data.train;
    const trained = new Float32Array(model.numItems), folded = new Float32Array(model.numItems);
    for (const u of [3, 77]) {
      model.scoreUser(u, trained);
      model.scoreInteractions(indices.slice(indptr[u], indptr[u + 1]), values.slice(indptr[u], indptr[u + 1]), folded);
      let diff = 0, norm = 0;
      for (let i = 0; i < model.numItems; i++) {
        diff += (trained[i] - folded[i]) ** 2;
        norm += trained[i] ** 2;
      }
      expect(Math.sqrt(diff / norm)).toBeLessThan(0.1);
    }
  });

  it('restore(exportState()) gives identical scores', async () => {
    const model = await fitted();
    const copy = ialsFactory.restore(model.hyperParameters, model.numUsers, model.numItems, model.exportState());
    const a = new Float32Array(model.numItems), b = new Float32Array(model.numItems);
    model.scoreUser(9, a);
    copy.scoreUser(9, b);
    expect(b).toEqual(a);
    model.scoreInteractions(Int32Array.from([4, 5]), Float32Array.from([1, 1]), a);
    copy.scoreInteractions(Int32Array.from([4, 5]), Float32Array.from([1, 1]), b);
    expect(b).toEqual(a);
    expect(copy.predict(1, 2)).toBe(model.predict(1, 2));
    expect(copy.predict(1, 999)).toBeNaN();
  });

  it('gives the same factors with 1 and 2 threads up to float rounding', async () => {
    const one = (await fitted({}, 1)).exportState().arrays.itemFactors;
    const two = (await fitted({}, 2)).exportState().arrays.itemFactors;
    for (let i = 0; i < one.length; i++) expect(Math.abs(two[i] - one[i])).toBeLessThan(1e-3 * (1 + Math.abs(one[i])));
  });

  it('throws RTREC_ERR_MODEL_FIT_ABORTED when aborted between half-steps', async () => {
    for (const threads of [1, 2]) {
      const controller = new AbortController();
      const fit = ialsFactory
        .create({ iterations: 30, rank: 4 })
        .fit(data.train, { threads, signal: controller.signal, onIteration: () => controller.abort() });
      await expect(fit).rejects.toMatchObject({ code: 'RTREC_ERR_MODEL_FIT_ABORTED' });
    }
  });

  it('validates hyper-parameters', () => {
    expect(() => ialsFactory.create({ cgSteps: 0 })).toThrow(expect.objectContaining({ code: 'RTREC_ERR_CONFIG_INVALID' }));
    expect(() => ialsFactory.create({ alpha: -1 })).toThrow(expect.objectContaining({ code: 'RTREC_ERR_CONFIG_INVALID' }));
    expect(() => ialsFactory.create({ nonnegative: true })).toThrow(expect.objectContaining({ code: 'RTREC_ERR_CONFIG_INVALID' }));
  });
});
