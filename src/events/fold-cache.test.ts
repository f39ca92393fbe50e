import { beforeAll, describe, expect, it } from 'vitest';
import type { TrainedModel } from '../models/trained-model.js';
import { FoldCache, type FoldEntry } from './fold-cache.js';
import { explicitAlsModel } from './test-support/explicit-als.js';

let modelA: TrainedModel;
let modelB: TrainedModel;
beforeAll(async () => {
  modelA = (await explicitAlsModel(5, 5, 1)).model;
  modelB = (await explicitAlsModel(5, 5, 2)).model;
});

const entry = (version: number, model: TrainedModel, cursor: string): FoldEntry => ({
  version,
  model,
  cursor,
  interactions: { items: new Int32Array(0), values: new Float32Array(0), exclude: new Int32Array(0) },
  written: false,
});

describe('FoldCache', () => {
  it('answers only for the version and model an entry was folded for', () => {
    const cache = new FoldCache(10);
    cache.set('u', entry(3, modelA, '7'));
    expect(cache.get('u', 3, modelA)?.cursor).toBe('7');
    expect(cache.get('u', 3, modelB)).toBeUndefined();
    // A mismatch drops the entry: a switched version never goes back to old folds.
    expect(cache.get('u', 3, modelA)).toBeUndefined();
    cache.set('u', entry(3, modelA, '8'));
    expect(cache.get('u', 4, modelA)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('drops the least recently used user beyond its capacity, and keeps nothing at capacity 0', () => {
    const cache = new FoldCache(2);
    cache.set('a', entry(1, modelA, '1'));
    cache.set('b', entry(1, modelA, '2'));
    expect(cache.get('a', 1, modelA)).toBeDefined();
    cache.set('c', entry(1, modelA, '3'));
    expect(cache.get('b', 1, modelA)).toBeUndefined();
    expect(cache.get('a', 1, modelA)?.cursor).toBe('1');
    expect(cache.get('c', 1, modelA)?.cursor).toBe('3');
    const none = new FoldCache(0);
    none.set('a', entry(1, modelA, '1'));
    expect(none.get('a', 1, modelA)).toBeUndefined();
  });
});
