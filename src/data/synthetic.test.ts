/** @module Tests of the synthetic data generator: determinism, counts, heavy tails, sessions and the planted signal. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RecError } from '../core/errors.js';
import { createRng } from '../core/rng.js';
import { loadItemMetadataFile } from './load-item-metadata.js';
import { generateSynthetic, plantedAffinity, type SyntheticOptions } from './synthetic.js';
import { SYNTHETIC_GENRES, writeItemMetadataCsv } from './synthetic-items.js';

// About 4% dense (MovieLens 100K is 6%), where dedupe does not yet flatten the popular head.
const BASE: SyntheticOptions = { numUsers: 500, numItems: 1000, numInteractions: 20_000, rank: 8, seed: 11 };
const data = generateSynthetic(BASE);
const x = data.interactions;

function pairKeys(u: Int32Array, i: Int32Array, numItems: number): number[] {
  return Array.from(u, (uu, j) => uu * numItems + i[j]);
}

describe('generateSynthetic', () => {
  it('is deterministic per seed and changes with the seed', () => {
    const again = generateSynthetic(BASE).interactions;
    expect(again.item).toEqual(x.item);
    expect(again.user).toEqual(x.user);
    expect(again.timestamp).toEqual(x.timestamp);
    const other = generateSynthetic({ ...BASE, seed: 12 }).interactions;
    expect(other.item).not.toEqual(x.item);
  });

  it('has exactly the requested counts, every user active, no duplicate pairs, implicit by default', () => {
    expect(x.length).toBe(20_000);
    expect(x.users.size).toBe(500);
    expect(x.items.size).toBe(1000);
    expect(x.users.idOf(0)).toBe('u1');
    expect(x.items.idOf(999)).toBe('i1000');
    expect(new Set(x.user).size).toBe(500);
    const keys = pairKeys(x.user, x.item, 1000);
    expect(new Set(keys).size).toBe(keys.length);
    expect(x.rating).toBeNull();
    expect(data.planted.userFactors.length).toBe(500 * 8);
    expect(data.planted.itemFactors.length).toBe(1000 * 8);
  });

  it('has heavy-tailed item popularity and user activity', () => {
    const itemCount = new Array<number>(1000).fill(0);
    for (const i of x.item) itemCount[i]++;
    itemCount.sort((a, b) => b - a);
    const top10 = itemCount.slice(0, 100).reduce((a, b) => a + b, 0);
    expect(top10 / x.length).toBeGreaterThan(0.4);
    const userCount = new Array<number>(500).fill(0);
    for (const u of x.user) userCount[u]++;
    userCount.sort((a, b) => b - a);
    expect(userCount[0]).toBeGreaterThan(4 * userCount[250]); // most active vs median
  });

  it('orders each user\'s events in time, in sessions seconds apart and days apart, inside the span', () => {
    const start = Date.UTC(2020, 0, 1) / 1000;
    const ts = x.timestamp!;
    let within = 0;
    let between = 0;
    let minGap = Infinity;
    for (let j = 1; j < x.length; j++) {
      if (x.user[j] !== x.user[j - 1]) continue;
      const gap = ts[j] - ts[j - 1];
      minGap = Math.min(minGap, gap);
      if (gap <= 3600) within++;
      else if (gap >= 3 * 3600) between++;
    }
    expect(minGap).toBeGreaterThan(0);
    expect(ts.every((t) => Number.isInteger(t) && t >= start && t <= start + 366 * 86_400)).toBe(true);
    // Mean session length 5: about 4 in 5 consecutive pairs share a session.
    const pairs = x.length - 500;
    expect(within / pairs).toBeGreaterThan(0.7);
    expect(between / pairs).toBeGreaterThan(0.1);
  });

  it('plants a signal: chosen pairs have higher affinity than random pairs', () => {
    const rng = createRng(5);
    let chosen = 0;
    let random = 0;
    for (let j = 0; j < x.length; j++) {
      chosen += plantedAffinity(data.planted, x.user[j], x.item[j]);
      random += plantedAffinity(data.planted, rng.int(500), rng.int(1000));
    }
    expect(chosen / x.length).toBeGreaterThan(random / x.length + 0.3);
  });

  it('gives explicit 1–5 ratings that follow the affinity', () => {
    const e = generateSynthetic({ ...BASE, explicit: true });
    const r = e.interactions.rating!;
    expect(r).not.toBeNull();
    const a = Array.from(e.interactions.user, (u, j) => plantedAffinity(e.planted, u, e.interactions.item[j]));
    expect(new Set(r)).toEqual(new Set([1, 2, 3, 4, 5]));
    expect(correlation(a, Array.from(r))).toBeGreaterThan(0.6);
    // Half stars: multiples of 0.5 in [1, 5], some of them halves.
    const h = generateSynthetic({ ...BASE, explicit: true, halfStars: true }).interactions.rating!;
    expect(h.every((v) => v * 2 === Math.round(v * 2) && v >= 1 && v <= 5)).toBe(true);
    expect(Array.from(h).some((v) => !Number.isInteger(v))).toBe(true);
  });

  it('fills a dense catalogue and allows repeats only when asked', () => {
    const dense = generateSynthetic({ numUsers: 10, numItems: 12, numInteractions: 115, seed: 1 }).interactions;
    const keys = pairKeys(dense.user, dense.item, 12);
    expect(new Set(keys).size).toBe(115);
    const rep = generateSynthetic({ numUsers: 2, numItems: 5, numInteractions: 60, allowRepeats: true }).interactions;
    expect(rep.length).toBe(60);
    expect(new Set(pairKeys(rep.user, rep.item, 5)).size).toBeLessThanOrEqual(10);
  });

  it('makes a title and a latent-driven genre per item', () => {
    const meta = data.itemMetadata;
    expect(meta.fields).toEqual(['title', 'genres']);
    expect(meta.byId.size).toBe(1000);
    const genres = new Set<string>();
    for (const record of meta.byId.values()) {
      expect(typeof record.title).toBe('string');
      expect((record.title as string).length).toBeGreaterThan(3);
      expect(record.genres).toHaveLength(1);
      expect(SYNTHETIC_GENRES).toContain((record.genres as string[])[0]);
      genres.add((record.genres as string[])[0]);
    }
    expect(genres.size).toBeGreaterThan(5);
  });

  it('writes item metadata that the item loader reads back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rtrec-synth-'));
    try {
      const small = generateSynthetic({ numUsers: 5, numItems: 7, numInteractions: 20 });
      const file = join(dir, 'items.csv');
      await writeItemMetadataCsv(file, small.interactions.items, small.itemMetadata);
      const back = await loadItemMetadataFile(file);
      expect(back.fields).toEqual(['title', 'genres']);
      expect(new Map(back.byId)).toEqual(new Map(small.itemMetadata.byId));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects impossible options with RTREC_ERR_CONFIG_INVALID', () => {
    const cases: [Partial<SyntheticOptions>, RegExp][] = [
      [{ numUsers: 0 }, /numUsers must be a whole number/],
      [{ numItems: 2.5 }, /numItems must be a whole number/],
      [{ numInteractions: 499 }, /at least numUsers/],
      [{ numInteractions: 500 * 1000 + 1 }, /exceeds numUsers × numItems/],
      [{ rank: 0 }, /rank/],
      [{ zipf: -1 }, /zipf/],
      [{ spanDays: 0 }, /spanDays/],
    ];
    for (const [patch, pattern] of cases) {
      let caught: unknown;
      try {
        generateSynthetic({ ...BASE, ...patch });
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(RecError);
      expect((caught as RecError).code).toBe('RTREC_ERR_CONFIG_INVALID');
      expect((caught as RecError).message).toMatch(pattern);
    }
  });
});

function correlation(a: readonly number[], b: readonly number[]): number {
  const n = a.length;
  const ma = a.reduce((s, v) => s + v, 0) / n;
  const mb = b.reduce((s, v) => s + v, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let j = 0; j < n; j++) {
    sab += (a[j] - ma) * (b[j] - mb);
    saa += (a[j] - ma) ** 2;
    sbb += (b[j] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}
