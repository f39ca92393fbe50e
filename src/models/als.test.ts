import { describe, it, expect } from 'vitest';
import { isRecError } from '../core/errors.js';
import { solveDense } from '../math/reference.js';
import { alsFactory } from './als.js';
import { plantedRatings } from './mf-synthetic.js';
import type { IterationEvent, Recommender } from './recommender.js';

const data = plantedRatings({ users: 120, items: 90, rank: 3, density: 0.35, noise: 0.2, testFraction: 0.1, seed: 21 });

function heldOutRmse(model: Recommender): { rmse: number; baseline: number } {
  const { testUsers, testItems, testRatings, train } = data;
  let mean = 0;
  for (let q = 0; q < train.indptr[train.rows]; q++) mean += train.data[q];
  mean /= train.indptr[train.rows];
  let se = 0, seMean = 0, n = 0;
  for (let q = 0; q < testUsers.length; q++) {
    const p = model.predict(testUsers[q], testItems[q]);
    if (Number.isNaN(p)) continue;
    se += (p - testRatings[q]) ** 2;
    seMean += (mean - testRatings[q]) ** 2;
    n++;
  }
  return { rmse: Math.sqrt(se / n), baseline: Math.sqrt(seMean / n) };
}

async function fitted(hp: Record<string, number | boolean> = {}, threads = 1): Promise<Recommender> {
  const model = alsFactory.create({ rank: 4, iterations: 12, reg: 0.05, ...hp });
  await model.fit(data.train, { threads });
  return model;
}

describe('explicit ALS', () => {
  it('recovers a planted low-rank matrix: held-out RMSE far below predicting the mean', async () => {
    const events: IterationEvent[] = [];
    const model = alsFactory.create({ rank: 4, iterations: 12, reg: 0.05 });
    const report = await model.fit(data.train, { threads: 1, onIteration: (e) => events.push(e) });
    const { rmse, baseline } = heldOutRmse(model);
    expect(rmse).toBeLessThan(0.4 * baseline);
    expect(rmse).toBeLessThan(0.35); // the noise has standard deviation 0.2
    expect(events.map((e) => e.iteration)).toEqual([...Array(12).keys()].map((i) => i + 1));
    expect(events.every((e) => e.total === 12 && e.loss !== undefined)).toBe(true);
    expect(events[11].loss!).toBeLessThan(events[0].loss!);
    expect(report.finalLoss).toBe(events[11].loss);
    expect(report.iterations).toBe(12);
    expect(model.predictsRatings).toBe(true);
  });

  it('reports the training RMSE of the final factors as the loss', async () => {
    const model = alsFactory.create({ rank: 3, iterations: 4 });
    const report = await model.fit(data.train, { threads: 1 });
    const { train } = data;
    let se = 0;
    for (let u = 0; u < train.rows; u++) {
      for (let p = train.indptr[u]; p < train.indptr[u + 1]; p++) se += (model.predict(u, train.indices[p]) - train.data[p]) ** 2;
    }
    expect(report.finalLoss!).toBeCloseTo(Math.sqrt(se / train.indptr[train.rows]), 4);
  });

  it('fold-in of a training user reproduces its factors (the last half-step solved users)', async () => {
    const model = await fitted();
    const scores = new Float32Array(model.numItems);
    const folded = new Float32Array(model.numItems);
    for (const u of [0, 17, 64]) {
      const { indptr, indices, data: values } = data.train;
      model.scoreUser(u, scores);
      model.scoreInteractions(indices.slice(indptr[u], indptr[u + 1]), values.slice(indptr[u], indptr[u + 1]), folded);
      for (let i = 0; i < model.numItems; i++) expect(folded[i]).toBeCloseTo(scores[i], 3);
    }
  });

  it('fold-in solves the ALS-WR normal equations of the given ratings', async () => {
    const model = await fitted();
    const { itemFactors } = model.exportState().arrays as { itemFactors: Float32Array };
    const k = 4, reg = 0.05;
    const items = Int32Array.from([2, 5, 40]);
    const values = Float32Array.from([4, 2, 5]);
    const a = new Array<number>(k * k).fill(0);
    const b = new Array<number>(k).fill(0);
    items.forEach((item, q) => {
      for (let i = 0; i < k; i++) {
        b[i] += values[q] * itemFactors[item * k + i];
        for (let j = 0; j < k; j++) a[i * k + j] += itemFactors[item * k + i] * itemFactors[item * k + j];
      }
    });
    for (let i = 0; i < k; i++) a[i * k + i] += reg * items.length;
    const x = solveDense(a, k, b);
    const out = new Float32Array(model.numItems);
    model.scoreInteractions(items, values, out);
    for (let i = 0; i < model.numItems; i++) {
      let s = 0;
      for (let j = 0; j < k; j++) s += x[j] * itemFactors[i * k + j];
      expect(out[i]).toBeCloseTo(s, 4);
    }
  });

  it('restore(exportState()) gives identical scores and predictions', async () => {
    const model = await fitted();
    const state = model.exportState();
    const copy = alsFactory.restore(model.hyperParameters, model.numUsers, model.numItems, state);
    const a = new Float32Array(model.numItems), b = new Float32Array(model.numItems);
    for (const u of [0, 50, 119]) {
      model.scoreUser(u, a);
      copy.scoreUser(u, b);
      expect(b).toEqual(a);
    }
    model.scoreSimilarItems(7, a);
    copy.scoreSimilarItems(7, b);
    expect(b).toEqual(a);
    expect(copy.predict(3, 4)).toBe(model.predict(3, 4));
    expect(() => alsFactory.restore(model.hyperParameters, model.numUsers + 1, model.numItems, state)).toThrow(
      expect.objectContaining({ code: 'RTREC_ERR_MODEL_CORRUPT' }),
    );
  });

  it('gives the same factors with 1 and 2 threads, and the same for a seed', async () => {
    const one = (await fitted({}, 1)).exportState().arrays.userFactors;
    const two = (await fitted({}, 2)).exportState().arrays.userFactors;
    const again = (await fitted({}, 1)).exportState().arrays.userFactors;
    expect(again).toEqual(one);
    expect(two.length).toBe(one.length);
    for (let i = 0; i < one.length; i++) expect(two[i]).toBeCloseTo(one[i], 4);
    const other = (await fitted({ seed: 99 }, 1)).exportState().arrays.userFactors;
    expect(other).not.toEqual(one);
  });

  it('keeps every factor non-negative when nonnegative is set', async () => {
    const model = await fitted({ nonnegative: true, iterations: 5 });
    const { userFactors, itemFactors } = model.exportState().arrays;
    expect(userFactors.every((v) => v >= 0)).toBe(true);
    expect(itemFactors.every((v) => v >= 0)).toBe(true);
    expect(userFactors.some((v) => v > 0)).toBe(true);
    const { rmse, baseline } = heldOutRmse(model);
    expect(rmse).toBeLessThan(baseline);
  });

  it('returns NaN for out-of-range indices and for users/items without training ratings', async () => {
    // User 2 and item 3 have no rating.
    const rows = Int32Array.from([0, 0, 1, 1, 3]);
    const cols = Int32Array.from([0, 1, 1, 2, 0]);
    const { csrFromCoo } = await import('../core/csr.js');
    const m = csrFromCoo(4, 4, rows, cols, Float32Array.from([5, 3, 4, 2, 1]));
    const model = alsFactory.create({ rank: 2, iterations: 3 });
    await model.fit(m, { threads: 1 });
    expect(Number.isFinite(model.predict(0, 1))).toBe(true);
    expect(model.predict(2, 0)).toBeNaN();
    expect(model.predict(0, 3)).toBeNaN();
    expect(model.predict(-1, 0)).toBeNaN();
    expect(model.predict(0, 4)).toBeNaN();
  });

  it('throws RTREC_ERR_MODEL_FIT_ABORTED when aborted, before or during the fit', async () => {
    const before = new AbortController();
    before.abort();
    await expect(alsFactory.create({}).fit(data.train, { signal: before.signal, threads: 1 })).rejects.toMatchObject({
      code: 'RTREC_ERR_MODEL_FIT_ABORTED',
    });
    for (const threads of [1, 2]) {
      const during = new AbortController();
      const model = alsFactory.create({ iterations: 50 });
      const fit = model.fit(data.train, { signal: during.signal, threads, onIteration: (e) => e.iteration === 2 && during.abort() });
      await expect(fit).rejects.toMatchObject({ code: 'RTREC_ERR_MODEL_FIT_ABORTED' });
    }
  });

  it('rejects unknown or invalid hyper-parameters and use before fit', () => {
    const code = (fn: () => unknown): string | undefined => {
      try {
        fn();
      } catch (err) {
        return isRecError(err) ? err.code : 'not a RecError';
      }
      return undefined;
    };
    expect(code(() => alsFactory.create({ rnak: 3 }))).toBe('RTREC_ERR_CONFIG_INVALID');
    expect(code(() => alsFactory.create({ rank: 0 }))).toBe('RTREC_ERR_CONFIG_INVALID');
    expect(code(() => alsFactory.create({ rank: 2.5 }))).toBe('RTREC_ERR_CONFIG_INVALID');
    expect(code(() => alsFactory.create({ reg: -1 }))).toBe('RTREC_ERR_CONFIG_INVALID');
    expect(code(() => alsFactory.create({ nonnegative: 'yes' }))).toBe('RTREC_ERR_CONFIG_INVALID');
    expect(alsFactory.create({ rank: '7', nonnegative: 'true' }).hyperParameters).toMatchObject({ rank: 7, nonnegative: true });
    expect(code(() => alsFactory.create({}).scoreUser(0, new Float32Array(1)))).toBe('RTREC_ERR_MODEL_NOT_FITTED');
    expect(alsFactory.defaults).toMatchObject({ rank: 10, iterations: 15, nonnegative: false });
    expect(alsFactory.defaults.reg).toBeGreaterThan(0);
    expect(alsFactory.explicit).toBe(true);
  });

  it('scores similar items by cosine of item factors', async () => {
    const model = await fitted();
    const { itemFactors } = model.exportState().arrays;
    const out = new Float32Array(model.numItems);
    model.scoreSimilarItems(10, out);
    const k = 4;
    const norm = (i: number): number => Math.hypot(...itemFactors.slice(i * k, i * k + k));
    for (const j of [0, 10, 33]) {
      let dot = 0;
      for (let a = 0; a < k; a++) dot += itemFactors[10 * k + a] * itemFactors[j * k + a];
      expect(out[j]).toBeCloseTo(dot / (norm(10) * norm(j)), 5);
    }
    expect(out[10]).toBeCloseTo(1, 5);
  });
});
