/**
 * @module Synthetic models for the serving and publishing benchmarks: the real ALS model class
 * restored from random rank-r factors (so scoring runs the production code path), with made-up ids,
 * seen items and item metadata. Sizes are parameters; nothing is trained.
 */
import { csrFromCoo } from '../src/core/csr.js';
import { IdMap } from '../src/core/ids.js';
import { createRng } from '../src/core/rng.js';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION, type ModelInfo } from '../src/models/manifest.js';
import { getFactory } from '../src/models/registry.js';
import { TrainedModel } from '../src/models/trained-model.js';

const GENRES = ['Action', 'Comedy', 'Drama', 'Horror', 'Romance', 'Sci-Fi', 'Thriller', 'Documentary'];

export interface SyntheticModelOptions {
  readonly users: number;
  readonly items: number;
  readonly rank: number;
  /** Seen items per user (excluded from that user's lists). */
  readonly seenPerUser: number;
  readonly seed?: number;
}

/** An ALS TrainedModel over random factors: user ids `u<idx>`, item ids `i<idx>`, titles and genres. */
export function syntheticAlsModel(o: SyntheticModelOptions): TrainedModel {
  const rng = createRng(o.seed ?? 42);
  const userFactors = new Float32Array(o.users * o.rank);
  const itemFactors = new Float32Array(o.items * o.rank);
  for (let j = 0; j < userFactors.length; j++) userFactors[j] = rng.normal() * 0.3;
  for (let j = 0; j < itemFactors.length; j++) itemFactors[j] = rng.normal() * 0.3;
  const factory = getFactory('als');
  const hyperParameters = { ...factory.defaults, rank: o.rank };
  const recommender = factory.restore(hyperParameters, o.users, o.items, { arrays: { userFactors, itemFactors }, values: {} });

  const nnz = o.users * o.seenPerUser;
  const rows = new Int32Array(nnz);
  const cols = new Int32Array(nnz);
  for (let u = 0, p = 0; u < o.users; u++) {
    for (let t = 0; t < o.seenPerUser; t++, p++) {
      rows[p] = u;
      // Skewed towards low indices so the popularity list has a clear head.
      cols[p] = Math.floor(o.items * rng.next() ** 2);
    }
  }
  const seen = csrFromCoo(o.users, o.items, rows, cols, null);
  const byId = new Map<string, Record<string, string | string[]>>();
  for (let i = 0; i < o.items; i++) byId.set(`i${i}`, { title: `Synthetic title number ${i}`, genres: [GENRES[i % GENRES.length], GENRES[(i * 7 + 3) % GENRES.length]] });
  const info: ModelInfo = {
    format: MODEL_FORMAT,
    formatVersion: MODEL_FORMAT_VERSION,
    type: 'als',
    hyperParameters,
    createdAt: new Date().toISOString(),
    rtrecVersion: 'bench',
    numUsers: o.users,
    numItems: o.items,
    numInteractions: seen.indptr[o.users],
    training: { source: 'synthetic random factors', dataFingerprint: 'synthetic', explicitFeedback: false, seconds: 0, iterations: 0, engine: 'none' },
  };
  return new TrainedModel({
    info,
    recommender,
    users: IdMap.fromArray(Array.from({ length: o.users }, (_, u) => `u${u}`)),
    items: IdMap.fromArray(Array.from({ length: o.items }, (_, i) => `i${i}`)),
    seen,
    itemMetadata: { fields: ['title', 'genres'], byId },
  });
}
