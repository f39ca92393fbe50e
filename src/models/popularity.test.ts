import { describe, expect, it } from 'vitest';
import { csrFromCoo, type CsrMatrix } from '../core/csr.js';
import { topK } from '../math/topk.js';
import { popularityFactory } from './popularity.js';
import type { Recommender } from './recommender.js';

// 4 users × 5 items (value = rating):
//   u0: i0=5, i1=3
//   u1: i0=1, i2=4
//   u2: i0=2, i1=2, i3=1
//   u3: i3=5
// count per item: [3, 2, 1, 2, 0]; sum per item: [8, 5, 4, 6, 0].
function fixture(): CsrMatrix {
  return csrFromCoo(
    4,
    5,
    Int32Array.of(0, 0, 1, 1, 2, 2, 2, 3),
    Int32Array.of(0, 1, 0, 2, 0, 1, 3, 3),
    Float32Array.of(5, 3, 1, 4, 2, 2, 1, 5),
  );
}

async function fitted(hp: Record<string, string | number> = {}): Promise<Recommender> {
  const model = popularityFactory.create(hp);
  await model.fit(fixture());
  return model;
}

describe('popularity', () => {
  it('counts distinct users per item by default, the same for every user', async () => {
    const model = await fitted();
    const out = new Float32Array(5);
    for (let u = 0; u < 4; u++) {
      model.scoreUser(u, out);
      expect(Array.from(out)).toEqual([3, 2, 1, 2, 0]);
    }
    model.scoreInteractions(Int32Array.of(4), Float32Array.of(1), out);
    expect(Array.from(out)).toEqual([3, 2, 1, 2, 0]);
    expect(model.predict(1, 3)).toBe(2);
    expect(model.numUsers).toBe(4);
    expect(model.numItems).toBe(5);
  });

  it('sums the values with measure=sum', async () => {
    const model = await fitted({ measure: 'sum' });
    const out = new Float32Array(5);
    model.scoreUser(0, out);
    expect(Array.from(out)).toEqual([8, 5, 4, 6, 0]);
  });

  it('ranks ties by item index, whatever the user', async () => {
    const model = await fitted();
    const out = new Float32Array(5);
    model.scoreUser(2, out);
    // Items 1 and 3 both have 2 users.
    expect(Array.from(topK(out, 5).items)).toEqual([0, 1, 3, 2, 4]);
  });

  it('answers similar items with popularity', async () => {
    const model = await fitted();
    const out = new Float32Array(5);
    model.scoreSimilarItems(3, out);
    expect(Array.from(out)).toEqual([3, 2, 1, 2, 0]);
  });

  it('restores from its exported state', async () => {
    const model = await fitted({ measure: 'sum' });
    const state = model.exportState();
    const restored = popularityFactory.restore(model.hyperParameters, 4, 5, {
      arrays: { popularity: (state.arrays.popularity as Float32Array).slice() },
      values: {},
    });
    expect(restored.exportState()).toEqual(state);
    expect(restored.hyperParameters).toEqual({ measure: 'sum' });
    expect(() => popularityFactory.restore({}, 4, 6, state)).toThrow(expect.objectContaining({ code: 'RTREC_ERR_MODEL_CORRUPT' }));
  });

  it('refuses unknown options and time decay, which needs timestamps', () => {
    expect(() => popularityFactory.create({ measure: 'max' })).toThrow(expect.objectContaining({ code: 'RTREC_ERR_CONFIG_INVALID' }));
    expect(() => popularityFactory.create({ measur: 'count' })).toThrow(expect.objectContaining({ code: 'RTREC_ERR_CONFIG_INVALID' }));
    expect(() => popularityFactory.create({ halfLifeDays: 7 })).toThrow(expect.objectContaining({ code: 'RTREC_ERR_MODEL_UNSUPPORTED' }));
    expect(popularityFactory.create({ halfLifeDays: 0 }).hyperParameters).toEqual({ measure: 'count' });
  });

  it('says it is not fitted', () => {
    expect(() => popularityFactory.create({}).predict(0, 0)).toThrow(expect.objectContaining({ code: 'RTREC_ERR_MODEL_NOT_FITTED' }));
  });
});
