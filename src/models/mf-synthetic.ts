/**
 * @module Synthetic interaction matrices with a known (planted) structure, for tests and benchmarks
 * of the factorisation models: ratings from known low-rank factors plus noise, and implicit
 * interactions from a block (community) structure. Everything is drawn from a seeded rng.
 */
import { csrFromCoo, type CsrMatrix } from '../core/csr.js';
import { createRng } from '../core/rng.js';

export interface PlantedRatings {
  /** Training ratings, users × items. */
  readonly train: CsrMatrix;
  /** Held-out (user, item, rating) triples, disjoint from train. */
  readonly testUsers: Int32Array;
  readonly testItems: Int32Array;
  readonly testRatings: Float32Array;
}

/**
 * Ratings r = 3 + x_uᵀy_i + noise with Gaussian x, y of the given rank (entries N(0, 1/rank), so the
 * signal has unit variance) and Gaussian noise of standard deviation `noise`. Each pair is observed
 * with probability `density`; a `testFraction` of the observed pairs is held out.
 */
export function plantedRatings(opts: {
  users: number;
  items: number;
  rank: number;
  density: number;
  noise: number;
  testFraction: number;
  seed: number;
}): PlantedRatings {
  const rng = createRng(opts.seed);
  const { users, items, rank } = opts;
  const sd = 1 / Math.sqrt(rank);
  const x = Float64Array.from({ length: users * rank }, () => rng.normal() * sd);
  const y = Float64Array.from({ length: items * rank }, () => rng.normal() * sd);
  const tu: number[] = [], ti: number[] = [], tr: number[] = [];
  const hu: number[] = [], hi: number[] = [], hr: number[] = [];
  for (let u = 0; u < users; u++) {
    for (let i = 0; i < items; i++) {
      if (rng.next() >= opts.density) continue;
      let r = 3;
      for (let a = 0; a < rank; a++) r += x[u * rank + a] * y[i * rank + a];
      r += rng.normal() * opts.noise;
      if (rng.next() < opts.testFraction) {
        hu.push(u); hi.push(i); hr.push(r);
      } else {
        tu.push(u); ti.push(i); tr.push(r);
      }
    }
  }
  return {
    train: csrFromCoo(users, items, Int32Array.from(tu), Int32Array.from(ti), Float32Array.from(tr)),
    testUsers: Int32Array.from(hu),
    testItems: Int32Array.from(hi),
    testRatings: Float32Array.from(hr),
  };
}

export interface PlantedInteractions {
  /** Training strengths (1 + a small integer), users × items. */
  readonly train: CsrMatrix;
  /** One held-out positive item per user (from the user's community, not in train). */
  readonly heldOut: Int32Array;
  /** Community of every user / item. */
  readonly userGroup: Int32Array;
  readonly itemGroup: Int32Array;
}

/**
 * Users and items fall into `groups` communities; each user interacts with `perUser` random items
 * of its own community and, with probability `crossRate` per interaction, one elsewhere instead.
 */
export function plantedInteractions(opts: {
  users: number;
  items: number;
  groups: number;
  perUser: number;
  crossRate: number;
  seed: number;
}): PlantedInteractions {
  const rng = createRng(opts.seed);
  const { users, items, groups, perUser } = opts;
  const userGroup = Int32Array.from({ length: users }, (_, u) => u % groups);
  const itemGroup = Int32Array.from({ length: items }, (_, i) => i % groups);
  const perGroup = Math.floor(items / groups);
  const rows: number[] = [], cols: number[] = [], vals: number[] = [];
  const heldOut = new Int32Array(users);
  for (let u = 0; u < users; u++) {
    const g = userGroup[u];
    const chosen = new Set<number>();
    while (chosen.size < perUser + 1) {
      const item = rng.next() < opts.crossRate ? rng.int(items) : g + groups * rng.int(perGroup);
      chosen.add(item);
    }
    const list = [...chosen];
    // The held-out item is the first in-community pick.
    const held = list.find((i) => itemGroup[i] === g) ?? list[0];
    heldOut[u] = held;
    for (const item of list) {
      if (item === held) continue;
      rows.push(u); cols.push(item); vals.push(1 + rng.int(3));
    }
  }
  return {
    train: csrFromCoo(users, items, Int32Array.from(rows), Int32Array.from(cols), Float32Array.from(vals)),
    heldOut,
    userGroup,
    itemGroup,
  };
}
