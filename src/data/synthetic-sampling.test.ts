/** @module Tests of the synthetic generator's sampling helpers against exact expectations. */
import { describe, expect, it } from 'vitest';
import { createRng } from '../core/rng.js';
import { allocateActivity, buildAliasTable, sampleAlias, sampleGeometric, zipfWeights } from './synthetic-sampling.js';

function expectClose(actual: readonly number[], expected: readonly number[]): void {
  expect(actual).toHaveLength(expected.length);
  expected.forEach((e, j) => expect(actual[j]).toBeCloseTo(e, 12));
}

describe('zipfWeights', () => {
  it('is a permutation of r^-s normalised to 1', () => {
    const w = zipfWeights(5, 1, createRng(1));
    const h5 = 1 + 1 / 2 + 1 / 3 + 1 / 4 + 1 / 5;
    const expected = [1, 2, 3, 4, 5].map((r) => 1 / r / h5);
    expectClose(Array.from(w).sort((a, b) => b - a), expected);
  });

  it('is uniform for exponent 0', () => {
    expect(Array.from(zipfWeights(4, 0, createRng(1)))).toEqual([0.25, 0.25, 0.25, 0.25]);
  });
});

describe('alias table', () => {
  it('table encodes the distribution exactly', () => {
    const weights = new Float64Array([5, 1, 0, 2, 2]);
    const t = buildAliasTable(weights);
    // P(i) = (prob[i] + Σ_{j: alias[j] = i} (1 - prob[j])) / n
    const n = weights.length;
    const p = new Array<number>(n).fill(0);
    for (let j = 0; j < n; j++) {
      p[j] += t.prob[j] / n;
      p[t.alias[j]] += (1 - t.prob[j]) / n;
    }
    expectClose(p, [0.5, 0.1, 0, 0.2, 0.2]);
  });

  it('draws match the weights', () => {
    const t = buildAliasTable(new Float64Array([3, 1]));
    const rng = createRng(7);
    let zeros = 0;
    for (let k = 0; k < 20_000; k++) if (sampleAlias(t, rng) === 0) zeros++;
    expect(zeros / 20_000).toBeCloseTo(0.75, 1);
  });
});

describe('allocateActivity', () => {
  it('sums exactly to the total, gives everyone 1..cap, and is heavy-tailed', () => {
    const counts = allocateActivity(1000, 50_000, 1, 400, createRng(3));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(50_000);
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...counts)).toBeLessThanOrEqual(400);
    const sorted = Array.from(counts).sort((a, b) => b - a);
    const top10 = sorted.slice(0, 100).reduce((a, b) => a + b, 0);
    expect(top10 / 50_000).toBeGreaterThan(0.2); // equal activity would give 0.1
  });

  it('fills every user to the cap when the total demands it', () => {
    expect(Array.from(allocateActivity(4, 12, 2, 3, createRng(1)))).toEqual([3, 3, 3, 3]);
    expect(Array.from(allocateActivity(3, 3, 2, 5, createRng(1)))).toEqual([1, 1, 1]);
  });

  it('clips at the cap and redistributes the excess', () => {
    const counts = allocateActivity(50, 900, 3, 20, createRng(9));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(900);
    expect(Math.max(...counts)).toBeLessThanOrEqual(20);
  });
});

describe('sampleGeometric', () => {
  it('has the requested mean and support from 1', () => {
    const rng = createRng(2);
    let sum = 0;
    let min = Infinity;
    for (let k = 0; k < 20_000; k++) {
      const g = sampleGeometric(rng, 4);
      sum += g;
      min = Math.min(min, g);
    }
    expect(min).toBe(1);
    expect(sum / 20_000).toBeCloseTo(4, 0);
    expect(sampleGeometric(rng, 1)).toBe(1);
  });
});
