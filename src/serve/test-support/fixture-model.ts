/**
 * @module Test double for the MODEL side of publish and serve tests: a Recommender whose user scores
 * are a fixed seeded matrix and whose item similarity is the dot product of fixed item vectors,
 * wrapped in a real TrainedModel with ids, seen items and metadata. Stores and servers under test
 * are always real; only the model is hand-made, so tests need no trainer.
 */
import { csrFromCoo } from '../../core/csr.js';
import { IdMap } from '../../core/ids.js';
import { createRng } from '../../core/rng.js';
import type { ItemMetadata } from '../../data/interactions.js';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION, type ModelInfo } from '../../models/manifest.js';
import type { FitReport, ModelState, Recommender } from '../../models/recommender.js';
import { TrainedModel } from '../../models/trained-model.js';

export const FIXTURE_GENRES = ['Comedy', 'Drama', 'Sci-Fi'] as const;

class FixedScoresRecommender implements Recommender {
  readonly type = 'als' as const;
  readonly hyperParameters = { fixture: true };
  readonly predictsRatings = false;
  readonly numUsers: number;
  readonly numItems: number;
  readonly #scores: Float32Array;
  readonly #itemVecs: Float32Array;
  readonly #dim: number;

  constructor(numUsers: number, numItems: number, scores: Float32Array, itemVecs: Float32Array, dim: number) {
    this.numUsers = numUsers;
    this.numItems = numItems;
    this.#scores = scores;
    this.#itemVecs = itemVecs;
    this.#dim = dim;
  }

  fit(): Promise<FitReport> {
    return Promise.reject(new Error('the fixture model is not trainable'));
  }

  scoreUser(userIdx: number, out: Float32Array): void {
    out.set(this.#scores.subarray(userIdx * this.numItems, (userIdx + 1) * this.numItems));
  }

  scoreInteractions(items: Int32Array, values: Float32Array, out: Float32Array): void {
    out.fill(0);
    const tmp = new Float32Array(this.numItems);
    items.forEach((i, j) => {
      this.scoreSimilarItems(i, tmp);
      for (let t = 0; t < this.numItems; t++) out[t] += values[j] * tmp[t];
    });
  }

  predict(userIdx: number, itemIdx: number): number {
    return this.#scores[userIdx * this.numItems + itemIdx];
  }

  scoreSimilarItems(itemIdx: number, out: Float32Array): void {
    const d = this.#dim;
    for (let t = 0; t < this.numItems; t++) {
      let s = 0;
      for (let f = 0; f < d; f++) s += this.#itemVecs[itemIdx * d + f] * this.#itemVecs[t * d + f];
      out[t] = s;
    }
  }

  exportState(): ModelState {
    return { arrays: { scores: this.#scores, itemVecs: this.#itemVecs }, values: { dim: this.#dim } };
  }
}

export interface FixtureOptions {
  readonly users: number;
  readonly items: number;
  /** Items each user has seen in "training" (default 3). */
  readonly seenPerUser?: number;
  readonly seed?: number;
  /** Prefix of user ids (default 'u'); item ids are 'i0', 'i1', … */
  readonly userPrefix?: string;
}

/** A TrainedModel over a fixed random score matrix; item i has genre FIXTURE_GENRES[i % 3]. */
export function fixtureModel(options: FixtureOptions): TrainedModel {
  const { users, items } = options;
  const rng = createRng(options.seed ?? 7);
  const scores = new Float32Array(users * items);
  for (let j = 0; j < scores.length; j++) scores[j] = rng.next() * 5;
  const dim = 4;
  const itemVecs = new Float32Array(items * dim);
  for (let j = 0; j < itemVecs.length; j++) itemVecs[j] = rng.normal();

  const seenPerUser = Math.min(options.seenPerUser ?? 3, items);
  const rowIdx: number[] = [];
  const colIdx: number[] = [];
  for (let u = 0; u < users; u++) {
    const picked = new Set<number>();
    while (picked.size < seenPerUser) picked.add(rng.int(items));
    for (const i of picked) {
      rowIdx.push(u);
      colIdx.push(i);
    }
  }
  const seen = csrFromCoo(users, items, Int32Array.from(rowIdx), Int32Array.from(colIdx), null);
  const prefix = options.userPrefix ?? 'u';
  const userIds = IdMap.fromArray(Array.from({ length: users }, (_, u) => `${prefix}${u}`));
  const itemIds = IdMap.fromArray(Array.from({ length: items }, (_, i) => `i${i}`));
  const byId = new Map<string, Record<string, string | string[]>>();
  for (let i = 0; i < items; i++) byId.set(`i${i}`, { title: `Item number ${i}`, genres: [FIXTURE_GENRES[i % 3]] });
  const itemMetadata: ItemMetadata = { fields: ['title', 'genres'], byId };
  const info: ModelInfo = {
    format: MODEL_FORMAT,
    formatVersion: MODEL_FORMAT_VERSION,
    type: 'als',
    hyperParameters: { fixture: true },
    createdAt: '2024-01-01T00:00:00.000Z',
    rtrecVersion: '0.0.0-test',
    numUsers: users,
    numItems: items,
    numInteractions: seen.indptr[users],
    training: { source: 'fixture', dataFingerprint: 'fixture', explicitFeedback: false, seconds: 0, iterations: 0, engine: 'fixture' },
  };
  return new TrainedModel({
    info,
    recommender: new FixedScoresRecommender(users, items, scores, itemVecs, dim),
    users: userIds,
    items: itemIds,
    seen,
    itemMetadata,
  });
}
