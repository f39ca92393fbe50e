/**
 * @module What the read routes answer, independent of HTTP: precomputed lists read from the store
 * for one version snapshot, filtered (exclude ids, genre), cut to k and joined with item metadata
 * from the snapshot (see answer-json.ts). When the store fails, answers come from a bounded cache of recent answers,
 * else from the in-memory popularity list, flagged `degraded`.
 */
import { performance } from 'node:perf_hooks';
import type { Ranked } from '../models/recommender.js';
import type { OnlineStore } from '../store/online-store.js';
import type { ActiveVersionWatcher, VersionSnapshot } from './active-version.js';
import { Lru } from './lru.js';

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

export class RecService {
  readonly #store: OnlineStore;
  readonly #watcher: ActiveVersionWatcher;
  /** version/kind/id → list, or null for "the store has none" (unknown user or item). */
  readonly #recent: Lru<string, Ranked | null>;
  readonly #observe: StoreObserver;

  constructor(store: OnlineStore, watcher: ActiveVersionWatcher, options: { answerCacheSize: number; observeStore?: StoreObserver }) {
    this.#store = store;
    this.#watcher = watcher;
    this.#recent = new Lru(options.answerCacheSize);
    this.#observe = options.observeStore ?? (() => undefined);
  }

  /** Personalised list of a user; unknown users (and store trouble without a cached answer) get the popular list. */
  async userRecs(snap: VersionSnapshot, userId: string, q: ListQuery): Promise<ListAnswer<'personalized' | 'popular'>> {
    const { list, degraded } = await this.#read(snap, 'u', userId, () => this.#store.getUserRecs(snap.version, userId));
    if (list && list.items.length > 0) return { source: 'personalized', selection: selectItems(snap, list, q), degraded };
    return { source: 'popular', selection: selectItems(snap, snap.popular, q), degraded };
  }

  /** Items similar to a catalogue item; falls back to the popular list (without the item itself). */
  async similar(snap: VersionSnapshot, itemId: string, q: ListQuery): Promise<ListAnswer<'similar' | 'popular'>> {
    const { list, degraded } = await this.#read(snap, 's', itemId, () => this.#store.getSimilarItems(snap.version, itemId));
    if (list && list.items.length > 0) return { source: 'similar', selection: selectItems(snap, list, q), degraded };
    return { source: 'popular', selection: selectItems(snap, snap.popular, { ...q, exclude: [...(q.exclude ?? []), itemId] }), degraded };
  }

  popular(snap: VersionSnapshot, q: ListQuery): Selection {
    return selectItems(snap, snap.popular, q);
  }

  async #read(snap: VersionSnapshot, kind: string, id: string, read: () => Promise<Ranked | undefined>): Promise<{ list: Ranked | null | undefined; degraded: boolean }> {
    const key = `${snap.version}\0${kind}\0${id}`;
    if (this.#watcher.storeHealthy) {
      const t0 = performance.now();
      try {
        const list = (await read()) ?? null;
        this.#observe(kind === 'u' ? 'user-recs' : 'similar-items', (performance.now() - t0) / 1000, true);
        this.#recent.set(key, list);
        return { list, degraded: false };
      } catch (err) {
        this.#observe(kind === 'u' ? 'user-recs' : 'similar-items', (performance.now() - t0) / 1000, false);
        this.#watcher.reportStoreError(err);
      }
    }
    return { list: this.#recent.get(key), degraded: true };
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
