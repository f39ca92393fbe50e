/**
 * @module Live popularity: every accepted event with a positive strength adds its strength to its
 * item's counter, decayed exponentially with a configurable half-life (H) by the event's time, and
 * the served popular list blends these live counts with the version's published counts.
 *
 * Decay without rewriting counters: a contribution `w` made at time t is worth `w · 2^-((now - t)/H)`
 * at `now`. Counters store `w · 2^((t - start)/H)` relative to the start of a bucket period, so an
 * event is a single atomic add and a read multiplies by `2^-((now - start)/H)`. To keep the scale
 * bounded, a period lasts BUCKET_HALF_LIVES half-lives (scale < 2^64) and each period has its own
 * bucket; reads sum the current and the previous bucket (anything older has decayed by ≥ 2^-64).
 * The bucket name includes H, so changing the half-life starts from zero instead of mixing scales.
 */
import type { Ranked } from '../models/recommender.js';
import type { CounterAdd, ItemCounters, NewEvent } from '../store/event-log.js';
import { eventStrength, type EventConfig } from './event-config.js';

export const POPULARITY_HALF_LIFE_ENV = 'RTREC_POPULARITY_HALF_LIFE_HOURS';
export const DEFAULT_POPULARITY_HALF_LIFE_HOURS = 24;
/** Half-lives per bucket period: bounds the stored scale to 2^64. */
export const BUCKET_HALF_LIVES = 64;
const HOUR_MS = 3_600_000;

export interface LivePopularityOptions {
  /** Half-life of a contribution, in hours (> 0). */
  readonly halfLifeHours: number;
  /** Current time, ms since the epoch; injectable for tests. Default Date.now. */
  readonly now?: () => number;
}

/** An item's live (decayed) count at read time. */
export interface LiveCount {
  readonly itemId: string;
  readonly count: number;
}

export class LivePopularity {
  readonly #counters: ItemCounters;
  readonly #halfLifeMs: number;
  readonly #periodMs: number;
  readonly now: () => number;

  constructor(counters: ItemCounters, options: LivePopularityOptions) {
    this.#counters = counters;
    this.#halfLifeMs = options.halfLifeHours * HOUR_MS;
    this.#periodMs = this.#halfLifeMs * BUCKET_HALF_LIVES;
    this.now = options.now ?? Date.now;
  }

  /** Where the counters live (the updater folds the adds into its event append when this is its store). */
  get counters(): ItemCounters {
    return this.#counters;
  }

  /** How long a bucket must be kept after its last add, in ms (read for two periods after its own, plus one for clock skew). */
  get keepMs(): number {
    return this.#periodMs * 3;
  }

  /**
   * What one event adds to its item's counter, or undefined when it adds nothing (dislikes and zero
   * weights). An event's time is capped at `now`, so a future timestamp cannot outweigh the present.
   */
  counterAdd(e: NewEvent, config: EventConfig, now: number = this.now()): CounterAdd | undefined {
    const w = eventStrength(config, e.type, e.value);
    if (!(w > 0)) return undefined;
    const t = Math.min(e.ts, now);
    const period = Math.floor(t / this.#periodMs);
    return { bucket: this.#bucket(period), itemId: e.itemId, amount: w * 2 ** ((t - period * this.#periodMs) / this.#halfLifeMs) };
  }

  /** Adds the positive-strength events to their items' counters (see counterAdd). */
  async record(events: readonly NewEvent[], config: EventConfig): Promise<void> {
    const now = this.now();
    const byBucket = new Map<string, Map<string, number>>();
    for (const e of events) {
      const add = this.counterAdd(e, config, now);
      if (!add) continue;
      let amounts = byBucket.get(add.bucket);
      if (!amounts) byBucket.set(add.bucket, (amounts = new Map<string, number>()));
      amounts.set(add.itemId, (amounts.get(add.itemId) ?? 0) + add.amount);
    }
    for (const [bucket, amounts] of byBucket) await this.#counters.addItemCounters(bucket, amounts, this.keepMs);
  }

  /** The `limit` items with the largest live counts at now, largest first (ties by item id). */
  async top(limit: number): Promise<LiveCount[]> {
    const now = this.now();
    const current = Math.floor(now / this.#periodMs);
    const sums = new Map<string, number>();
    for (const period of [current - 1, current]) {
      const factor = 2 ** -((now - period * this.#periodMs) / this.#halfLifeMs);
      for (const c of await this.#counters.topItemCounters(this.#bucket(period), limit)) {
        sums.set(c.itemId, (sums.get(c.itemId) ?? 0) + c.value * factor);
      }
    }
    const out = [...sums].map(([itemId, count]) => ({ itemId, count }));
    out.sort((a, b) => b.count - a.count || (a.itemId < b.itemId ? -1 : a.itemId > b.itemId ? 1 : 0));
    return out.slice(0, limit);
  }

  #bucket(period: number): string {
    return `h${this.#halfLifeMs}:${period}`;
  }
}

/**
 * The served popular list: each item scores its published count (training users who had it) plus
 * its live decayed count (sum of event strengths, halved every half-life), so a purchase (weight 5)
 * counts as five fresh training users and fades away; ranked by that sum, ties by catalogue index.
 * Items the version's catalogue lacks are left out (they cannot be served). At most
 * max(published length, `minLength`) entries.
 */
export function blendPopular(published: Ranked, live: readonly LiveCount[], itemIndex: ReadonlyMap<string, number>, minLength = 0): Ranked {
  const score = new Map<number, number>();
  for (let j = 0; j < published.items.length; j++) score.set(published.items[j], published.scores[j]);
  for (const { itemId, count } of live) {
    const i = itemIndex.get(itemId);
    if (i !== undefined) score.set(i, (score.get(i) ?? 0) + count);
  }
  const ranked = [...score].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, Math.max(published.items.length, minLength));
  return { items: Int32Array.from(ranked, (e) => e[0]), scores: Float32Array.from(ranked, (e) => e[1]) };
}

