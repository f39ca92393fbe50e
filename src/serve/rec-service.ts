/**
 * @module What the read routes answer, independent of HTTP: precomputed lists read from the store
 * for one version snapshot, filtered (exclude ids, genre), cut to k and joined with item metadata
 * from the snapshot (see answer-json.ts). When the store fails, answers come from a bounded cache of recent answers,
 * else from the in-memory popularity list, flagged `degraded`. The popular list is the version's
 * published list blended with live popularity (see events/live-popularity.ts), re-read from the
 * store at most every `refreshMs` per version snapshot.
 */
import { performance } from 'node:perf_hooks';
import { blendPopular, type LivePopularity } from '../events/live-popularity.js';
import type { Ranked } from '../models/recommender.js';
import type { OnlineStore } from '../store/online-store.js';
import type { ActiveVersionWatcher, VersionSnapshot } from './active-version.js';
import { RecentAnswers, type AnswerKind } from './recent-answers.js';

export interface ListQuery {
  /** Items wanted, 1..100. */
  readonly k: number;
  /** Item ids never to return. */
  readonly exclude?: readonly string[];
  /** Only items of this genre (case-insensitive). */
  readonly genre?: string;
}

/** Items chosen for an answer: catalogue indices and their scores, best first (≤ 100 entries). */
export interface Selection {
  readonly idx: readonly number[];
  readonly scores: readonly number[];
}

export interface ListAnswer<S extends string> {
  readonly source: S;
  readonly selection: Selection;
  /** True when the store could not be asked and the answer came from a fallback. */
  readonly degraded: boolean;
}

export type StoreObserver = (operation: string, seconds: number, ok: boolean) => void;

/** Live counts read per refresh, and the least length of the blended list (the largest k is 100). */
const LIVE_POPULAR_READ = 500;
const MIN_POPULAR_LENGTH = 100;

export interface RecServiceOptions {
  readonly answerCacheSize: number;
  readonly observeStore?: StoreObserver;
  /** Live popularity to blend into the popular list; without it the published list is served as is. */
  readonly livePopularity?: LivePopularity;
  /** Longest age of the blended popular list before it is re-read, in ms. Default 250. */
  readonly refreshMs?: number;
}

export class RecService {
  readonly #store: OnlineStore;
  readonly #watcher: ActiveVersionWatcher;
  readonly #recent: RecentAnswers;
  readonly #observe: StoreObserver;
  readonly #live: LivePopularity | undefined;
  readonly #refreshMs: number;
  /** The blended popular list of one snapshot and when it was read (performance.now() ms). */
  #popular: { snap: VersionSnapshot; at: number; list: Ranked } | undefined;

  constructor(store: OnlineStore, watcher: ActiveVersionWatcher, options: RecServiceOptions) {
    this.#store = store;
    this.#watcher = watcher;
    this.#recent = new RecentAnswers(options.answerCacheSize);
    this.#observe = options.observeStore ?? (() => undefined);
    this.#live = options.livePopularity;
    this.#refreshMs = options.refreshMs ?? 250;
  }

  /** Personalised list of a user; unknown users (and store trouble without a cached answer) get the popular list. */
  async userRecs(snap: VersionSnapshot, userId: string, q: ListQuery): Promise<ListAnswer<'personalized' | 'popular'>> {
    const { list, degraded } = await this.#read(snap, 'u', userId, () => this.#store.getUserRecs(snap.version, userId));
    if (list && list.items.length > 0) return { source: 'personalized', selection: selectItems(snap, list, q), degraded };
    return { source: 'popular', selection: selectItems(snap, await this.popularList(snap), q), degraded };
  }

  /** Items similar to a catalogue item; falls back to the popular list (without the item itself). */
  async similar(snap: VersionSnapshot, itemId: string, q: ListQuery): Promise<ListAnswer<'similar' | 'popular'>> {
    const { list, degraded } = await this.#read(snap, 's', itemId, () => this.#store.getSimilarItems(snap.version, itemId));
    if (list && list.items.length > 0) return { source: 'similar', selection: selectItems(snap, list, q), degraded };
    return { source: 'popular', selection: selectItems(snap, await this.popularList(snap), { ...q, exclude: [...(q.exclude ?? []), itemId] }), degraded };
  }

  async popular(snap: VersionSnapshot, q: ListQuery): Promise<Selection> {
    return selectItems(snap, await this.popularList(snap), q);
  }

  /**
   * The popular list served for `snap`: published counts plus live counts, cached for `refreshMs`.
   * When the store cannot be read, the last blended list of this snapshot (else the published one).
   */
  async popularList(snap: VersionSnapshot): Promise<Ranked> {
    if (!this.#live) return snap.popular;
    const cached = this.#popular?.snap === snap ? this.#popular : undefined;
    const t0 = performance.now();
    if (cached && t0 - cached.at < this.#refreshMs) return cached.list;
    if (!this.#watcher.storeHealthy) return cached?.list ?? snap.popular;
    try {
      const list = blendPopular(snap.popular, await this.#live.top(LIVE_POPULAR_READ), snap.itemIndex, MIN_POPULAR_LENGTH);
      this.#observe('live-popularity', (performance.now() - t0) / 1000, true);
      this.#popular = { snap, at: t0, list };
      return list;
    } catch (err) {
      this.#observe('live-popularity', (performance.now() - t0) / 1000, false);
      this.#watcher.reportStoreError(err);
      return cached?.list ?? snap.popular;
    }
  }

  async #read(snap: VersionSnapshot, kind: AnswerKind, id: string, read: () => Promise<Ranked | undefined>): Promise<{ list: Ranked | null | undefined; degraded: boolean }> {
    if (this.#watcher.storeHealthy) {
      const t0 = performance.now();
      try {
        const list = (await read()) ?? null;
        this.#observe(kind === 'u' ? 'user-recs' : 'similar-items', (performance.now() - t0) / 1000, true);
        this.#recent.remember(snap.version, kind, id, list);
        return { list, degraded: false };
      } catch (err) {
        this.#observe(kind === 'u' ? 'user-recs' : 'similar-items', (performance.now() - t0) / 1000, false);
        this.#watcher.reportStoreError(err);
      }
    }
    return { list: this.#recent.recall(snap.version, kind, id), degraded: true };
  }
}

/** Filters `ranked` by the query: at most k entries, in rank order. */
export function selectItems(snap: VersionSnapshot, ranked: Ranked, q: ListQuery): Selection {
  const n = snap.catalog.ids.length;
  let excluded: Set<number> | undefined;
  for (const id of q.exclude ?? []) {
    const i = snap.itemIndex.get(id);
    if (i !== undefined) (excluded ??= new Set()).add(i);
  }
  const mask = q.genre === undefined ? undefined : snap.genreMask(q.genre);
  const idx: number[] = [];
  const scores: number[] = [];
  for (let j = 0; j < ranked.items.length && idx.length < q.k; j++) {
    const i = ranked.items[j];
    if (i < 0 || i >= n || excluded?.has(i) || (mask && mask[i] === 0)) continue;
    idx.push(i);
    scores.push(ranked.scores[j]);
  }
  return { idx, scores };
}
