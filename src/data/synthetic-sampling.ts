/**
 * @module Sampling building blocks of the synthetic data generator: Zipf popularity weights, Walker's
 * alias table for O(1) draws from a fixed discrete distribution, heavy-tailed per-user activity
 * counts that sum exactly to a target, and the small continuous draws (exponential, geometric).
 */
import type { Rng } from '../core/rng.js';

/**
 * Zipf weights over items in a random popularity order: the item of popularity rank r (1-based)
 * gets r^-exponent, normalised to sum to 1.
 * @param exponent >= 0; 0 is uniform, 1 is classic Zipf.
 * @returns probability per item index.
 */
export function zipfWeights(numItems: number, exponent: number, rng: Rng): Float64Array {
  const rankOf = new Int32Array(numItems);
  for (let i = 0; i < numItems; i++) rankOf[i] = i + 1;
  rng.shuffle(rankOf);
  const w = new Float64Array(numItems);
  let sum = 0;
  for (let i = 0; i < numItems; i++) {
    w[i] = Math.pow(rankOf[i], -exponent);
    sum += w[i];
  }
  for (let i = 0; i < numItems; i++) w[i] /= sum;
  return w;
}

/** Walker/Vose alias table: column i is kept with probability prob[i], else alias[i] is drawn. */
export interface AliasTable {
  readonly prob: Float64Array;
  readonly alias: Int32Array;
}

/**
 * Builds an alias table in O(n) (Vose, "A linear algorithm for generating random numbers with a
 * given distribution", IEEE TSE 1991).
 * @param weights non-negative, not all zero; need not sum to 1.
 */
export function buildAliasTable(weights: Float64Array): AliasTable {
  const n = weights.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += weights[i];
  const scaled = new Float64Array(n);
  for (let i = 0; i < n; i++) scaled[i] = (weights[i] * n) / sum;
  const prob = new Float64Array(n);
  const alias = new Int32Array(n);
  const small = new Int32Array(n);
  const large = new Int32Array(n);
  let ns = 0;
  let nl = 0;
  for (let i = 0; i < n; i++) {
    if (scaled[i] < 1) small[ns++] = i;
    else large[nl++] = i;
  }
  while (ns > 0 && nl > 0) {
    const s = small[--ns];
    const l = large[--nl];
    prob[s] = scaled[s];
    alias[s] = l;
    scaled[l] = scaled[l] + scaled[s] - 1;
    if (scaled[l] < 1) small[ns++] = l;
    else large[nl++] = l;
  }
  // Leftovers are 1 up to rounding error.
  while (nl > 0) prob[large[--nl]] = 1;
  while (ns > 0) prob[small[--ns]] = 1;
  return { prob, alias };
}

/** One draw from an alias table (two uniforms). */
export function sampleAlias(table: AliasTable, rng: Rng): number {
  const i = rng.int(table.prob.length);
  return rng.next() < table.prob[i] ? i : table.alias[i];
}

/**
 * Splits `total` interactions over users: every user gets at least 1 and at most `cap`, the rest in
 * proportion to heavy-tailed (log-normal) activity weights; users whose share would exceed the cap
 * are clipped and the excess goes to the others (water filling). Fractions are rounded by
 * systematic sampling, so the counts sum exactly to `total`.
 * @param sigma standard deviation of log-activity; 0 gives equal activity, 1 a MovieLens-like tail.
 * @param cap most interactions per user (the catalogue size when repeats are not allowed).
 * @returns interactions per user index; requires numUsers <= total <= numUsers · cap.
 */
export function allocateActivity(numUsers: number, total: number, sigma: number, cap: number, rng: Rng): Int32Array {
  const weight = new Float64Array(numUsers);
  for (let u = 0; u < numUsers; u++) weight[u] = Math.exp(sigma * rng.normal());
  const extraCap = cap - 1;
  const extra = new Float64Array(numUsers);
  const clipped = new Uint8Array(numUsers);
  let remaining = total - numUsers;
  // Water filling: clip users over the cap until the proportional shares of the rest fit.
  for (;;) {
    let w = 0;
    for (let u = 0; u < numUsers; u++) if (!clipped[u]) w += weight[u];
    if (w === 0) break;
    let changed = false;
    for (let u = 0; u < numUsers; u++) {
      if (!clipped[u] && (remaining * weight[u]) / w > extraCap) {
        clipped[u] = 1;
        extra[u] = extraCap;
        changed = true;
      }
    }
    if (!changed) {
      for (let u = 0; u < numUsers; u++) if (!clipped[u]) extra[u] = (remaining * weight[u]) / w;
      break;
    }
    remaining = total - numUsers;
    for (let u = 0; u < numUsers; u++) if (clipped[u]) remaining -= extra[u];
  }
  // Systematic rounding: floor of a running sum with a random offset keeps each count within one of its share.
  const counts = new Int32Array(numUsers);
  let acc = rng.next();
  let prev = Math.floor(acc);
  let assigned = 0;
  for (let u = 0; u < numUsers; u++) {
    acc += extra[u];
    const cur = Math.floor(acc);
    counts[u] = 1 + Math.min(extraCap, Math.max(0, cur - prev));
    prev = cur;
    assigned += counts[u];
  }
  // Float rounding can leave the total off by a little; fix it on users with room.
  for (let u = 0; assigned < total && u < numUsers; u++) {
    const add = Math.min(cap - counts[u], total - assigned);
    counts[u] += add;
    assigned += add;
  }
  for (let u = 0; assigned > total && u < numUsers; u++) {
    const sub = Math.min(counts[u] - 1, assigned - total);
    counts[u] -= sub;
    assigned -= sub;
  }
  return counts;
}

/** Exponential draw with the given mean. */
export function sampleExponential(rng: Rng, mean: number): number {
  return -mean * Math.log(1 - rng.next());
}

/** Geometric draw on 1, 2, 3, ... with the given mean (>= 1). */
export function sampleGeometric(rng: Rng, mean: number): number {
  if (mean <= 1) return 1;
  return 1 + Math.floor(Math.log(1 - rng.next()) / Math.log(1 - 1 / mean));
}
