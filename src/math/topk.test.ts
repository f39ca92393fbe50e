import { describe, expect, it } from 'vitest';
import { createRng } from '../core/rng.js';
import { topK } from './topk.js';

describe('topK', () => {
  it('matches a full sort on random scores', () => {
    const rng = createRng(11);
    const scores = Float32Array.from({ length: 1000 }, () => rng.normal());
    const expected = Array.from(scores.keys()).sort((a, b) => scores[b] - scores[a] || a - b).slice(0, 25);
    const got = topK(scores, 25);
    expect(Array.from(got.items)).toEqual(expected);
    expect(Array.from(got.scores)).toEqual(expected.map((i) => scores[i]));
  });

  it('breaks ties towards the lower index and skips -Infinity and NaN', () => {
    const scores = Float32Array.from([1, 3, 3, -Infinity, NaN, 3, 2]);
    expect(Array.from(topK(scores, 3).items)).toEqual([1, 2, 5]);
    expect(Array.from(topK(scores, 10).items)).toEqual([1, 2, 5, 6, 0]);
  });

  it('returns nothing for k = 0 or an empty vector', () => {
    expect(topK(new Float32Array(0), 5).items.length).toBe(0);
    expect(topK(Float32Array.from([1, 2]), 0).items.length).toBe(0);
  });
});
