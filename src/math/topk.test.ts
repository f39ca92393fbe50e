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

/** Deliberately naive: sort every qualifying entry by score desc, index asc, and take k. */
function referenceTopK(scores: Float32Array | Float64Array, k: number): number[] {
  const qualifying = Array.from(scores.keys()).filter((i) => scores[i] > -Infinity);
  qualifying.sort((a, b) => (scores[a] === scores[b] ? a - b : scores[a] > scores[b] ? -1 : 1));
  return qualifying.slice(0, k);
}

type Rng = ReturnType<typeof createRng>;

/** Score vectors that exercise the paths a heap gets wrong: ties, masked entries, sorted runs. */
function randomScores(rng: Rng, n: number, kind: 'f32' | 'f64'): Float32Array | Float64Array {
  const shape = rng.int(4);
  const values = Array.from({ length: n }, (_, i) => {
    if (shape === 0) return rng.normal();
    if (shape === 1) return rng.int(4) - 1.5; // few distinct values: ties everywhere, also at the cut
    if (shape === 2) return i / n + (rng.next() < 0.2 ? 0.5 : 0); // mostly ascending: nearly every entry displaces the minimum
    return -i + rng.int(3); // mostly descending: nothing enters once the heap is full
  });
  const maskRate = [0, 0.02, 0.5, 1][rng.int(4)];
  for (let i = 0; i < n; i++) {
    if (rng.next() < maskRate) values[i] = rng.next() < 0.5 ? -Infinity : NaN;
    else if (rng.next() < 0.005) values[i] = Infinity;
  }
  return kind === 'f32' ? Float32Array.from(values) : Float64Array.from(values);
}

describe('topK against a full sort', () => {
  const sizes = [0, 1, 2, 7, 8, 9, 15, 16, 17, 100, 333, 2001];
  const ks = [0, 1, 2, 3, 10, 110];

  for (const kind of ['f32', 'f64'] as const) {
    it(`agrees on items, order and scores for ${kind} input over many random cases`, () => {
      const rng = createRng(kind === 'f32' ? 101 : 202);
      for (let round = 0; round < 400; round++) {
        const n = sizes[rng.int(sizes.length)];
        const k = rng.next() < 0.2 ? n + rng.int(3) : ks[rng.int(ks.length)];
        const scores = randomScores(rng, n, kind);
        const expected = referenceTopK(scores, k);
        const got = topK(scores, k);
        const context = `round ${round}, n=${n}, k=${k}`;
        expect(got.items, context).toBeInstanceOf(Int32Array);
        expect(got.scores, context).toBeInstanceOf(Float32Array);
        expect(Array.from(got.items), context).toEqual(expected);
        expect(Array.from(got.scores), context).toEqual(expected.map((i) => Math.fround(scores[i])));
      }
    });
  }

  it('ranks Float64 scores by their exact value, not by the Float32 they round to', () => {
    const scores = Float64Array.from([1, 1 + 1e-12, 1 + 2e-12]);
    expect(Math.fround(scores[1])).toBe(Math.fround(scores[2]));
    expect(Array.from(topK(scores, 2).items)).toEqual([2, 1]);
  });
});
