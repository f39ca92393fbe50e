import { describe, expect, it } from 'vitest';
import { csrFromCoo, type CsrMatrix } from '../core/csr.js';
import { createRng } from '../core/rng.js';
import { topK } from '../math/topk.js';
import { EASE_DEFAULTS, easeFactory } from './ease.js';
import type { Recommender } from './recommender.js';

/** CSR from per-user [item, value] lists. */
function matrix(numItems: number, users: Array<Array<[number, number]>>): CsrMatrix {
  const rows: number[] = [], cols: number[] = [], vals: number[] = [];
  users.forEach((entries, u) => {
    for (const [i, v] of entries) {
      rows.push(u);
      cols.push(i);
      vals.push(v);
    }
  });
  return csrFromCoo(users.length, numItems, Int32Array.from(rows), Int32Array.from(cols), Float32Array.from(vals));
}

async function fitted(x: CsrMatrix, hp: Record<string, number | boolean> = {}): Promise<Recommender> {
  const model = easeFactory.create(hp);
  await model.fit(x, { threads: 1 });
  return model;
}

function weightsOf(model: Recommender): Float32Array {
  return model.exportState().arrays.weights as Float32Array;
}

/** Independent EASE: dense G, Gauss–Jordan inverse, then B_ij = −P_ij/P_jj, B_ii = 0. */
function referenceWeights(x: CsrMatrix, lambda: number, binarize: boolean): Float64Array {
  const n = x.cols;
  const dense = new Float64Array(x.rows * n);
  for (let u = 0; u < x.rows; u++) {
    for (let p = x.indptr[u]; p < x.indptr[u + 1]; p++) dense[u * n + x.indices[p]] = binarize ? 1 : x.data[p];
  }
  const w = 2 * n;
  const m = new Float64Array(n * w);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = i === j ? lambda : 0;
      for (let u = 0; u < x.rows; u++) s += dense[u * n + i] * dense[u * n + j];
      m[i * w + j] = s;
    }
    m[i * w + n + i] = 1;
  }
  for (let c = 0; c < n; c++) {
    const d = m[c * w + c];
    for (let k = 0; k < w; k++) m[c * w + k] /= d;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r * w + c];
      for (let k = 0; k < w; k++) m[r * w + k] -= f * m[c * w + k];
    }
  }
  const b = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) b[i * n + j] = i === j ? 0 : -m[i * w + n + j] / m[j * w + n + j];
  }
  return b;
}

describe('EASE', () => {
  it('matches the 2-item closed form worked by hand (binarised)', async () => {
    // X = [[1, 1], [1, 0]], λ = 1: G = [[3, 1], [1, 2]], P = [[2, −1], [−1, 3]]/5,
    // B_01 = −P_01/P_11 = 1/3, B_10 = −P_10/P_00 = 1/2.
    const x = matrix(2, [[[0, 5], [1, 4]], [[0, 3]]]);
    const model = await fitted(x, { lambda: 1 });
    const b = weightsOf(model);
    expect(b[0]).toBe(0);
    expect(b[3]).toBe(0);
    expect(b[1]).toBeCloseTo(1 / 3, 6);
    expect(b[2]).toBeCloseTo(1 / 2, 6);
    const out = new Float32Array(2);
    model.scoreUser(1, out);
    expect(out[0]).toBe(0);
    expect(out[1]).toBeCloseTo(1 / 3, 6);
    model.scoreUser(0, out);
    expect(out[0]).toBeCloseTo(1 / 2, 6);
    expect(out[1]).toBeCloseTo(1 / 3, 6);
    expect(model.predict(0, 0)).toBeCloseTo(1 / 2, 6);
  });

  it('weights by the stored values when binarize is false (worked by hand)', async () => {
    // X = [[2, 1]], λ = 1: G = [[5, 2], [2, 2]]; for two items B_01 = G_01/G_00 = 2/5, B_10 = G_10/G_11 = 1.
    // Scores of the user: [1·B_10, 2·B_01] = [1, 0.8].
    const model = await fitted(matrix(2, [[[0, 2], [1, 1]]]), { lambda: 1, binarize: false });
    const out = new Float32Array(2);
    model.scoreUser(0, out);
    expect(out[0]).toBeCloseTo(1, 6);
    expect(out[1]).toBeCloseTo(0.8, 6);
    expect(model.exportState().arrays.data).toEqual(Float32Array.of(2, 1));
  });

  it('equals an independent dense computation on a random small matrix, with a zero diagonal', async () => {
    const rng = createRng(7);
    const n = 9;
    const users = Array.from({ length: 14 }, () =>
      Array.from({ length: 1 + rng.int(5) }, (): [number, number] => [rng.int(n), 1 + rng.int(5)]),
    );
    const x = matrix(n, users);
    for (const binarize of [true, false]) {
      const model = await fitted(x, { lambda: 3, binarize });
      const b = weightsOf(model);
      const ref = referenceWeights(x, 3, binarize);
      for (let i = 0; i < n; i++) expect(b[i * n + i]).toBe(0);
      for (let k = 0; k < n * n; k++) expect(b[k]).toBeCloseTo(ref[k], 5);
      // x_u·B, computed here from the reference weights.
      const out = new Float32Array(n);
      for (let u = 0; u < x.rows; u++) {
        model.scoreUser(u, out);
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let p = x.indptr[u]; p < x.indptr[u + 1]; p++) s += (binarize ? 1 : x.data[p]) * ref[x.indices[p] * n + j];
          expect(out[j]).toBeCloseTo(s, 4);
        }
      }
    }
  });

  it('recommends within the group for two disjoint groups of users and items', async () => {
    const rng = createRng(3);
    const groupSize = 10;
    const users: Array<Array<[number, number]>> = [];
    for (let u = 0; u < 60; u++) {
      const base = u % 2 === 0 ? 0 : groupSize;
      users.push(Array.from({ length: 4 }, (): [number, number] => [base + rng.int(groupSize), 1]));
    }
    const x = matrix(2 * groupSize, users);
    const model = await fitted(x, { lambda: 5 });
    const scores = new Float32Array(2 * groupSize);
    for (let u = 0; u < x.rows; u++) {
      model.scoreUser(u, scores);
      for (let p = x.indptr[u]; p < x.indptr[u + 1]; p++) scores[x.indices[p]] = -Infinity;
      const group = u % 2;
      for (const i of topK(scores, 3).items) expect(Math.floor(i / groupSize)).toBe(group);
    }
    model.scoreSimilarItems(2, scores);
    scores[2] = -Infinity;
    for (const i of topK(scores, 5).items) expect(i).toBeLessThan(groupSize);
  });

  it('folds in a user from their interactions exactly as scoreUser, counting repeats once', async () => {
    const x = matrix(6, [[[0, 1], [2, 1]], [[1, 1], [2, 1], [5, 1]], [[0, 1], [3, 1], [4, 1]]]);
    const model = await fitted(x, { lambda: 2 });
    const known = new Float32Array(6), folded = new Float32Array(6);
    model.scoreUser(1, known);
    model.scoreInteractions(Int32Array.of(5, 1, 2, 1), Float32Array.of(1, 1, 1, 1), folded);
    expect(folded).toEqual(known);
  });

  it('restores from its exported state to an identical model', async () => {
    const x = matrix(5, [[[0, 2], [1, 1]], [[1, 3], [4, 1]], [[2, 1], [3, 5], [4, 2]]]);
    const model = await fitted(x, { lambda: 4, binarize: false });
    const state = model.exportState();
    // Copies, as loading from disk would produce.
    const copied = {
      arrays: Object.fromEntries(Object.entries(state.arrays).map(([k, v]) => [k, v.slice()])),
      values: { ...state.values },
    };
    const restored = easeFactory.restore(model.hyperParameters, model.numUsers, model.numItems, copied);
    expect(restored.exportState()).toEqual(state);
    expect(restored.hyperParameters).toEqual(model.hyperParameters);
    const a = new Float32Array(5), b = new Float32Array(5);
    for (let u = 0; u < 3; u++) {
      model.scoreUser(u, a);
      restored.scoreUser(u, b);
      expect(b).toEqual(a);
    }
    model.scoreSimilarItems(3, a);
    restored.scoreSimilarItems(3, b);
    expect(b).toEqual(a);
    expect(restored.predict(2, 0)).toBe(model.predict(2, 0));
  });

  it('refuses a state that does not fit the model', async () => {
    const model = await fitted(matrix(3, [[[0, 1], [1, 1]], [[2, 1]]]));
    const { arrays } = model.exportState();
    expect(() => easeFactory.restore(model.hyperParameters, 2, 4, { arrays, values: {} })).toThrow(
      expect.objectContaining({ code: 'RTREC_ERR_MODEL_CORRUPT' }),
    );
    expect(() =>
      easeFactory.restore({ ...model.hyperParameters, binarize: false }, 2, 3, { arrays, values: {} }),
    ).toThrow(/data must be Float32/);
  });

  it('refuses more items than maxItems, pointing to ials', async () => {
    const model = easeFactory.create({ maxItems: 4 });
    await expect(model.fit(matrix(5, [[[0, 1], [4, 1]]]))).rejects.toMatchObject({
      code: 'RTREC_ERR_MODEL_UNSUPPORTED',
      message: expect.stringMatching(/maxItems=4.*ials/) as unknown,
    });
  });

  it('checks hyper-parameters and reports what it used', () => {
    expect(easeFactory.create({}).hyperParameters).toEqual({ ...EASE_DEFAULTS });
    expect(easeFactory.create({ lambda: '250', binarize: 'false' }).hyperParameters).toMatchObject({ lambda: 250, binarize: false });
    const bads: Array<Record<string, number | string>> = [{ lambda: 0 }, { lambda: -1 }, { lambda: 'x' }, { binarize: 1 }, { maxItems: 2.5 }, { lamda: 3 }];
    for (const bad of bads) {
      expect(() => easeFactory.create(bad)).toThrow(expect.objectContaining({ code: 'RTREC_ERR_CONFIG_INVALID' }));
    }
  });

  it('says it is not fitted, and rejects bad indices and buffers', async () => {
    const fresh = easeFactory.create({});
    expect(() => fresh.scoreUser(0, new Float32Array(1))).toThrow(expect.objectContaining({ code: 'RTREC_ERR_MODEL_NOT_FITTED' }));
    const model = await fitted(matrix(3, [[[0, 1]], [[1, 1], [2, 1]]]));
    expect(() => model.scoreUser(2, new Float32Array(3))).toThrow(RangeError);
    expect(() => model.scoreUser(0, new Float32Array(2))).toThrow(RangeError);
    expect(() => model.scoreInteractions(Int32Array.of(3), Float32Array.of(1), new Float32Array(3))).toThrow(RangeError);
  });

  it('stops when the signal has already fired', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(easeFactory.create({}).fit(matrix(2, [[[0, 1]]]), { signal: controller.signal })).rejects.toMatchObject({
      code: 'RTREC_ERR_MODEL_FIT_ABORTED',
    });
  });
});
