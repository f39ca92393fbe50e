/**
 * @module Seeded synthetic interaction data with a planted structure a recommender can learn:
 * low-rank user/item preferences, Zipf item popularity, heavy-tailed user activity, and sessions
 * with realistic timestamps; optionally explicit 1–5 ratings. The planted factors are returned too,
 * so tests can check that a model recovers them.
 *
 * Generative story, per user u (in index order, each drawing from its own place in one seeded stream):
 * 1. u gets c_u interactions (log-normal activity weights, at least 1, at most the catalogue size).
 * 2. Candidates are drawn from the popularity distribution and accepted with probability
 *    sigmoid(affinityStrength · a(u, i)), where a(u, i) = userFactors[u] · itemFactors[i]
 *    (components N(0, 1/√rank), so a is roughly standard normal); already chosen items are redrawn.
 *    A user who cannot fill up this way (a large share of a small catalogue) falls back to uniform
 *    candidates, then to a scan, so generation always terminates.
 * 3. The chosen items, in draw order, are grouped into sessions (geometric length, mean
 *    meanSessionLength); events in a session are seconds to minutes apart, sessions are days apart,
 *    and the user's whole timeline is squeezed into [startTime, startTime + spanDays).
 * 4. Explicit ratings are 3 + a + N(0, ratingNoise²), rounded to whole (or half) stars in [1, 5].
 */
import { RecError } from '../core/errors.js';
import { IdMap } from '../core/ids.js';
import { createRng, DEFAULT_SEED, type Rng } from '../core/rng.js';
import type { Dataset, Interactions, ItemMetadata } from './interactions.js';
import { allocateActivity, buildAliasTable, sampleAlias, sampleExponential, sampleGeometric, zipfWeights, type AliasTable } from './synthetic-sampling.js';
import { makeItemMetadata } from './synthetic-items.js';

export interface SyntheticOptions {
  numUsers: number;
  numItems: number;
  /** Total interactions; met exactly. Needs numUsers <= numInteractions <= numUsers · numItems (without repeats). */
  numInteractions: number;
  /** Planted latent dimensions; default 16. */
  rank?: number;
  /** Zipf exponent of item popularity (0 = uniform); default 1. */
  zipf?: number;
  /** Spread (σ of log) of per-user activity (0 = equal); default 1. */
  activitySigma?: number;
  /** How strongly planted affinity drives choices (slope of the acceptance sigmoid); default 2. */
  affinityStrength?: number;
  /** Ratings 1–5 from affinity + noise; default false (implicit, rating null). */
  explicit?: boolean;
  /** Round explicit ratings to half stars; default false (whole stars). */
  halfStars?: boolean;
  /** Standard deviation of rating noise in stars; default 0.5. */
  ratingNoise?: number;
  /** Allow a user to interact with the same item more than once; default false. */
  allowRepeats?: boolean;
  /** Unix seconds of the earliest possible event; default 2020-01-01T00:00:00Z. */
  startTime?: number;
  /** Length of the time window in days; default 365. */
  spanDays?: number;
  /** Mean events per session; default 5. */
  meanSessionLength?: number;
  /** Default 42. */
  seed?: number;
  /** Called every few thousand users with (users done, numUsers). */
  onProgress?: (usersDone: number, numUsers: number) => void;
}

/** The structure planted in the data. Row u / i is the user / item of dense index u / i in the id maps. */
export interface PlantedFactors {
  readonly rank: number;
  /** Row-major [numUsers × rank]. */
  readonly userFactors: Float32Array;
  /** Row-major [numItems × rank]. */
  readonly itemFactors: Float32Array;
  /** Candidate-draw probability per item (sums to 1) before affinity acceptance. */
  readonly itemPopularity: Float64Array;
  /** Slope of the acceptance sigmoid used. */
  readonly affinityStrength: number;
}

export interface SyntheticDataset extends Dataset {
  readonly itemMetadata: ItemMetadata;
  readonly planted: PlantedFactors;
}

const DAY = 86_400;
/** Within a session: at least 5 s between events, on average about 1.5 min. */
const MIN_EVENT_GAP = 5;
const MEAN_EXTRA_EVENT_GAP = 85;
/** Between sessions: at least half a day, on average 3.5 days (before squeezing into the span). */
const MIN_SESSION_GAP = DAY / 2;
const MEAN_EXTRA_SESSION_GAP = 3 * DAY;
const PROGRESS_EVERY = 4096;

/**
 * Generates a synthetic data set. Users are `u1..uN`, items `i1..iM` (index order = factor row);
 * every user has at least one interaction, some long-tail items may have none. Rows are grouped by
 * user, oldest first. Memory is a few typed arrays: O(numInteractions + (numUsers + numItems) · rank).
 * @throws RTREC_ERR_CONFIG_INVALID for counts that are not whole numbers >= 1, numInteractions
 *   outside [numUsers, numUsers · numItems] (upper bound only without repeats), or a bad parameter.
 */
export function generateSynthetic(options: SyntheticOptions): SyntheticDataset {
  const o = resolveOptions(options);
  const root = createRng(o.seed);
  // Independent streams, so e.g. changing the metadata never shifts the interactions.
  const factorRng = root.fork();
  const popularityRng = root.fork();
  const activityRng = root.fork();
  const eventRng = root.fork();
  const metadataRng = root.fork();

  const scale = Math.pow(o.rank, -0.25);
  const userFactors = normalMatrix(o.numUsers * o.rank, scale, factorRng);
  const itemFactors = normalMatrix(o.numItems * o.rank, scale, factorRng);
  const itemPopularity = zipfWeights(o.numItems, o.zipf, popularityRng);
  const cap = o.allowRepeats ? o.numInteractions : o.numItems;
  const counts = allocateActivity(o.numUsers, o.numInteractions, o.activitySigma, cap, activityRng);

  const users = IdMap.fromArray(Array.from({ length: o.numUsers }, (_, u) => `u${u + 1}`));
  const items = IdMap.fromArray(Array.from({ length: o.numItems }, (_, i) => `i${i + 1}`));
  const n = o.numInteractions;
  const out: MutableColumns = {
    user: new Int32Array(n),
    item: new Int32Array(n),
    rating: o.explicit ? new Float32Array(n) : null,
    timestamp: new Float64Array(n),
  };
  const gen = new UserGenerator(o, userFactors, itemFactors, buildAliasTable(itemPopularity), eventRng, maxOf(counts));
  let row = 0;
  for (let u = 0; u < o.numUsers; u++) {
    gen.generate(u, counts[u], row, out);
    row += counts[u];
    if ((u + 1) % PROGRESS_EVERY === 0 || u + 1 === o.numUsers) o.onProgress?.(u + 1, o.numUsers);
  }

  const interactions: Interactions = { users, items, length: n, ...out };
  return {
    interactions,
    itemMetadata: makeItemMetadata(items, itemFactors, o.rank, metadataRng),
    source: `synthetic(seed=${o.seed}, users=${o.numUsers}, items=${o.numItems}, interactions=${n}, rank=${o.rank}, zipf=${o.zipf}${o.explicit ? ', explicit' : ''})`,
    planted: { rank: o.rank, userFactors, itemFactors, itemPopularity, affinityStrength: o.affinityStrength },
  };
}

/** Planted affinity a(u, i) = userFactors[u] · itemFactors[i]. */
export function plantedAffinity(planted: PlantedFactors, userIdx: number, itemIdx: number): number {
  return dot(planted.userFactors, userIdx * planted.rank, planted.itemFactors, itemIdx * planted.rank, planted.rank);
}

interface MutableColumns {
  user: Int32Array;
  item: Int32Array;
  rating: Float32Array | null;
  timestamp: Float64Array;
}

type ResolvedOptions = Required<Omit<SyntheticOptions, 'onProgress'>> & Pick<SyntheticOptions, 'onProgress'>;

/** Per-user sampling with scratch buffers sized for the most active user (no per-row allocation). */
class UserGenerator {
  readonly #o: ResolvedOptions;
  readonly #userFactors: Float32Array;
  readonly #itemFactors: Float32Array;
  readonly #popularity: AliasTable;
  readonly #rng: Rng;
  /** mark[i] === u + 1 when user u already has item i (saves clearing a set per user). */
  readonly #mark: Int32Array;
  readonly #chosen: Int32Array;
  readonly #affinity: Float64Array;
  /** Gap before event e in seconds; negative marks a session start (value = -gap). */
  readonly #gap: Float64Array;

  constructor(o: ResolvedOptions, userFactors: Float32Array, itemFactors: Float32Array, popularity: AliasTable, rng: Rng, maxCount: number) {
    this.#o = o;
    this.#userFactors = userFactors;
    this.#itemFactors = itemFactors;
    this.#popularity = popularity;
    this.#rng = rng;
    this.#mark = new Int32Array(o.numItems);
    this.#chosen = new Int32Array(maxCount);
    this.#affinity = new Float64Array(maxCount);
    this.#gap = new Float64Array(maxCount);
  }

  /** Writes user u's `count` rows to `out` starting at row `start`. */
  generate(u: number, count: number, start: number, out: MutableColumns): void {
    this.#chooseItems(u, count);
    this.#timestamps(count, start, out.timestamp);
    const rating = out.rating;
    const step = this.#o.halfStars ? 2 : 1;
    for (let e = 0; e < count; e++) {
      out.user[start + e] = u;
      out.item[start + e] = this.#chosen[e];
      if (rating) {
        const raw = 3 + this.#affinity[e] + this.#o.ratingNoise * this.#rng.normal();
        rating[start + e] = Math.min(5, Math.max(1, Math.round(raw * step) / step));
      }
    }
  }

  #chooseItems(u: number, count: number): void {
    const { numItems, rank, affinityStrength, allowRepeats } = this.#o;
    const rng = this.#rng;
    const mark = this.#mark;
    const stamp = u + 1;
    const uOff = u * rank;
    let got = 0;
    const take = (i: number, a: number): void => {
      this.#chosen[got] = i;
      this.#affinity[got] = a;
      got++;
      mark[i] = stamp;
    };
    // Phase 1: popularity candidates; phase 2: uniform candidates (reaches the long tail quickly).
    for (let phase = 0; phase < 2 && got < count; phase++) {
      const budget = 8 * count + 64;
      for (let attempt = 0; attempt < budget && got < count; attempt++) {
        const i = phase === 0 ? sampleAlias(this.#popularity, rng) : rng.int(numItems);
        if (!allowRepeats && mark[i] === stamp) continue;
        const a = dot(this.#userFactors, uOff, this.#itemFactors, i * rank, rank);
        if (rng.next() * (1 + Math.exp(-affinityStrength * a)) < 1) take(i, a);
      }
    }
    // Phase 3 (a user owning most of a small catalogue, or a near-zero acceptance rate): take unseen
    // items in order from a random start. Terminates: without repeats count <= numItems.
    for (let i = rng.int(numItems); got < count; i = (i + 1) % numItems) {
      if (allowRepeats || mark[i] !== stamp) take(i, dot(this.#userFactors, uOff, this.#itemFactors, i * rank, rank));
    }
  }

  /** Session timestamps (whole unix seconds, strictly increasing) for `count` events. */
  #timestamps(count: number, start: number, out: Float64Array): void {
    const { meanSessionLength, spanDays, startTime } = this.#o;
    const rng = this.#rng;
    const gap = this.#gap;
    let left = sampleGeometric(rng, meanSessionLength) - 1;
    let within = 0;
    let between = 0;
    for (let e = 1; e < count; e++) {
      if (left > 0) {
        gap[e] = Math.round(MIN_EVENT_GAP + sampleExponential(rng, MEAN_EXTRA_EVENT_GAP));
        within += gap[e];
        left--;
      } else {
        const g = MIN_SESSION_GAP + sampleExponential(rng, MEAN_EXTRA_SESSION_GAP);
        gap[e] = -g;
        between += g;
        left = sampleGeometric(rng, meanSessionLength) - 1;
      }
    }
    // Squeeze only the gaps between sessions, so sessions keep their seconds-to-minutes rhythm.
    const span = spanDays * DAY;
    const squeeze = within + between > span && between > 0 ? Math.max(0, span - within) / between : 1;
    const duration = within + between * squeeze;
    let t = startTime + Math.floor(rng.next() * Math.max(0, span - duration));
    out[start] = t;
    for (let e = 1; e < count; e++) {
      t += gap[e] > 0 ? gap[e] : Math.max(1, Math.round(-gap[e] * squeeze));
      out[start + e] = t;
    }
  }
}

function dot(a: Float32Array, aOff: number, b: Float32Array, bOff: number, n: number): number {
  let s = 0;
  for (let f = 0; f < n; f++) s += a[aOff + f] * b[bOff + f];
  return s;
}

function normalMatrix(size: number, scale: number, rng: Rng): Float32Array {
  const m = new Float32Array(size);
  for (let j = 0; j < size; j++) m[j] = scale * rng.normal();
  return m;
}

function maxOf(a: Int32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) if (a[i] > m) m = a[i];
  return m;
}

function resolveOptions(options: SyntheticOptions): ResolvedOptions {
  const o: ResolvedOptions = {
    rank: 16,
    zipf: 1,
    activitySigma: 1,
    affinityStrength: 2,
    explicit: false,
    halfStars: false,
    ratingNoise: 0.5,
    allowRepeats: false,
    startTime: Date.UTC(2020, 0, 1) / 1000,
    spanDays: 365,
    meanSessionLength: 5,
    seed: DEFAULT_SEED,
    ...stripUndefined(options),
    numUsers: options.numUsers,
    numItems: options.numItems,
    numInteractions: options.numInteractions,
  };
  for (const key of ['numUsers', 'numItems', 'numInteractions', 'rank'] as const) {
    if (!Number.isSafeInteger(o[key]) || o[key] < 1) bad(`${key} must be a whole number >= 1, got ${String(o[key])}`);
  }
  if (o.numInteractions < o.numUsers) {
    bad(`numInteractions (${o.numInteractions}) must be at least numUsers (${o.numUsers}): every user gets at least one interaction`);
  }
  if (!o.allowRepeats && o.numInteractions > o.numUsers * o.numItems) {
    bad(`numInteractions (${o.numInteractions}) exceeds numUsers × numItems (${o.numUsers * o.numItems}), the most distinct user–item pairs; allow repeats or add users/items`);
  }
  if (o.numInteractions > 2 ** 31 - 1) bad(`numInteractions must be below 2^31, got ${o.numInteractions}`);
  for (const key of ['zipf', 'activitySigma', 'affinityStrength', 'ratingNoise'] as const) {
    if (!Number.isFinite(o[key]) || o[key] < 0) bad(`${key} must be a number >= 0, got ${String(o[key])}`);
  }
  if (!Number.isFinite(o.spanDays) || o.spanDays <= 0) bad(`spanDays must be a number > 0, got ${String(o.spanDays)}`);
  if (!Number.isFinite(o.meanSessionLength) || o.meanSessionLength < 1) bad(`meanSessionLength must be a number >= 1, got ${String(o.meanSessionLength)}`);
  if (!Number.isFinite(o.startTime)) bad(`startTime must be a finite number of unix seconds, got ${String(o.startTime)}`);
  return o;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function bad(message: string): never {
  throw new RecError('RTREC_ERR_CONFIG_INVALID', message);
}
