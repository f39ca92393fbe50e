/**
 * @module A real ALS model (the production class, restored through its factory) over random
 * factors, with made-up ids and seen items: for tests of code paths that rebuild a model from its
 * exported state, such as parallel publishing, where the hand-made fixture model cannot go.
 */
import { csrFromCoo } from '../../core/csr.js';
import { IdMap } from '../../core/ids.js';
import { createRng } from '../../core/rng.js';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION } from '../../models/manifest.js';
import { getFactory } from '../../models/registry.js';
import { TrainedModel } from '../../models/trained-model.js';

export function randomAlsModel(users: number, items: number, rank: number, seed: number): TrainedModel {
  const rng = createRng(seed);
  const userFactors = Float32Array.from({ length: users * rank }, () => rng.normal());
  const itemFactors = Float32Array.from({ length: items * rank }, () => rng.normal());
  const factory = getFactory('als');
  const hyperParameters = { ...factory.defaults, rank };
  const recommender = factory.restore(hyperParameters, users, items, { arrays: { userFactors, itemFactors }, values: {} });
  const rows: number[] = [];
  const cols: number[] = [];
  for (let u = 0; u < users; u++) {
    for (let t = 0; t < 4; t++) {
      rows.push(u);
      cols.push(rng.int(items));
    }
  }
  const seen = csrFromCoo(users, items, Int32Array.from(rows), Int32Array.from(cols), null);
  return new TrainedModel({
    info: {
      format: MODEL_FORMAT,
      formatVersion: MODEL_FORMAT_VERSION,
      type: 'als',
      hyperParameters,
      createdAt: '2024-01-01T00:00:00.000Z',
      rtrecVersion: 'test',
      numUsers: users,
      numItems: items,
      numInteractions: seen.indptr[users],
      training: { source: 'random', dataFingerprint: 'random', explicitFeedback: false, seconds: 0, iterations: 0, engine: 'none' },
    },
    recommender,
    users: IdMap.fromArray(Array.from({ length: users }, (_, u) => `u${u}`)),
    items: IdMap.fromArray(Array.from({ length: items }, (_, i) => `i${i}`)),
    seen,
    itemMetadata: null,
  });
}
