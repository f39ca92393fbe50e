/**
 * @module What the read routes answer, independent of HTTP: precomputed lists read from the store
 * for one version snapshot, filtered (exclude ids, genre), cut to k and joined with item metadata
 * from the snapshot (see answer-json.ts). When the store fails, answers come from a bounded cache of recent answers,
 * else from the in-memory popularity list, flagged `degraded`. The popular list is the version's
 * published list blended with live popularity (see events/live-popularity.ts), re-read from the
 * store at most every `refreshMs` per version snapshot.
 *
 * A selection is a pure function of (snapshot, list, query), so while the list read for an id is the
 * same as last time (recent-answers.ts compares it) and the query has no exclude list, the previous
 * Selection object is returned again; answer-json.ts keeps the rendered JSON of each Selection, so a
 * repeated request skips both selecting and rendering. Lists are still read on every request: an
 * event or a new version shows at once.
 */
import { performance } from 'node:perf_hooks';
import { blendPopular, type LivePopularity } from '../events/live-popularity.js';
import type { Ranked } from '../models/recommender.js';
import type { OnlineStore } from '../store/online-store.js';
import type { RenderedAnswer } from './answer-json.js';
import type { ActiveVersionWatcher, VersionSnapshot } from './active-version.js';
import { RecentAnswers, type AnswerKind, type RememberedList } from './recent-answers.js';

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
  /**
   * Text rendered from this selection, kept by answer-json.ts: a selection never changes. Fields of
   * the object rather than WeakMap entries, because V8 goes over every WeakMap entry again in the
   * pause that ends each full collection (4–7 ms of its 30–40 ms with 10,000 cached answers).
   */
  itemsJson: string | undefined;
  answer: RenderedAnswer | undefined;
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
/** Distinct (k, genre) selections kept for the current popular list. */
const MAX_POPULAR_QUERIES = 64;

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
  /** The read of the live counts under way, if any: requests arriving meanwhile wait for it instead of reading again. */
  #popularRefresh: { snap: VersionSnapshot; list: Promise<Ranked> } | undefined;
  /** Selections made from the popular list last served, by query (unknown users all get them). */
  #popularSelections: { list: Ranked; byQuery: Map<string, Selection> } | undefined;

  constructor(store: OnlineStore, watcher: ActiveVersionWatcher, options: RecServiceOptions) {
    this.#store = store;
    this.#watcher = watcher;
    this.#recent = new RecentAnswers(options.answerCacheSize);
    this.#observe = options.observeStore ?? (() => undefined);
    this.#live = options.livePopularity;
    this.#refreshMs = options.refreshMs ?? 250;
  }

  /**
   * Personalised list of a user; unknown users (and store trouble without a cached answer) get the
   * popular list. A user's stored list taken from the popular list (StoredList.fromPopular: the
   * user's events left nothing to rank by, but excluded items) is answered as it is, with source popular.
   */
  async userRecs(snap: VersionSnapshot, userId: string, q: ListQuery): Promise<ListAnswer<'personalized' | 'popular'>> {
    const { remembered, degraded } = await this.#read(snap, 'u', userId, (previous) => this.#store.getUserRecs(snap.version, userId, previous));
    const list = remembered?.list;
    if (remembered && list && list.items.length > 0) return { source: list.fromPopular ? 'popular' : 'personalized', selection: selectRemembered(snap, remembered, list, q), degraded };
    return { source: 'popular', selection: this.#selectPopular(snap, await this.popularList(snap), q), degraded };
  }

  /** Items similar to a catalogue item; falls back to the popular list (without the item itself). */
  async similar(snap: VersionSnapshot, itemId: string, q: ListQuery): Promise<ListAnswer<'similar' | 'popular'>> {
    const { remembered, degraded } = await this.#read(snap, 's', itemId, (previous) => this.#store.getSimilarItems(snap.version, itemId, previous));
    const list = remembered?.list;
    if (remembered && list && list.items.length > 0) return { source: 'similar', selection: selectRemembered(snap, remembered, list, q), degraded };
    return { source: 'popular', selection: selectItems(snap, await this.popularList(snap), { ...q, exclude: [...(q.exclude ?? []), itemId] }), degraded };
  }

  async popular(snap: VersionSnapshot, q: ListQuery): Promise<Selection> {
    return this.#selectPopular(snap, await this.popularList(snap), q);
  }

  /** selectItems on a popular list, reusing the selection made for the same list and query. */
  #selectPopular(snap: VersionSnapshot, list: Ranked, q: ListQuery): Selection {
    const key = queryKey(q);
    if (key === undefined) return selectItems(snap, list, q);
    let memo = this.#popularSelections;
    if (memo?.list !== list || memo.byQuery.size >= MAX_POPULAR_QUERIES) memo = this.#popularSelections = { list, byQuery: new Map() };
    let selection = memo.byQuery.get(key);
    if (!selection) memo.byQuery.set(key, (selection = selectItems(snap, list, q)));
    return selection;
  }

  /**
   * The popular list served for `snap`: published counts plus live counts, cached for `refreshMs`.
   * When the store cannot be read, the last blended list of this snapshot (else the published one).
   * One read of the live counts at a time: on Redis it is a round trip, during which every unknown
   * user's request would otherwise start its own read (and get a new list object, which also
   * discards the selections made from the last one).
   */
  popularList(snap: VersionSnapshot): Promise<Ranked> {
    if (!this.#live) return Promise.resolve(snap.popular);
    const cached = this.#popular?.snap === snap ? this.#popular : undefined;
    if (cached && performance.now() - cached.at < this.#refreshMs) return Promise.resolve(cached.list);
    if (!this.#watcher.storeHealthy) return Promise.resolve(cached?.list ?? snap.popular);
    if (this.#popularRefresh?.snap === snap) return this.#popularRefresh.list;
    const refresh = { snap, list: this.#readPopular(snap, this.#live, cached?.list) };
    this.#popularRefresh = refresh;
    void refresh.list.finally(() => {
      if (this.#popularRefresh === refresh) this.#popularRefresh = undefined;
    });
    return refresh.list;
  }

  /** Reads the live counts and blends them into `snap`'s published list; on failure, `fallback` (else the published list). */
  async #readPopular(snap: VersionSnapshot, live: LivePopularity, fallback: Ranked | undefined): Promise<Ranked> {
    const t0 = performance.now();
    try {
      const list = blendPopular(snap.popular, await live.top(LIVE_POPULAR_READ), snap.itemIndex, MIN_POPULAR_LENGTH);
      this.#observe('live-popularity', (performance.now() - t0) / 1000, true);
      this.#popular = { snap, at: t0, list };
      return list;
    } catch (err) {
      this.#observe('live-popularity', (performance.now() - t0) / 1000, false);
      this.#watcher.reportStoreError(err);
      return fallback ?? snap.popular;
    }
  }

  /** The list read for `id` (remembered as the latest), else, when the store fails, the last one remembered. */
  async #read(snap: VersionSnapshot, kind: AnswerKind, id: string, read: (previous: Ranked | undefined) => Promise<Ranked | undefined>): Promise<{ remembered: RememberedList | undefined; degraded: boolean }> {
    if (this.#watcher.storeHealthy) {
      const t0 = performance.now();
      try {
        // Given the remembered list, the store returns it itself when unchanged (no decoding), and
        // what was recalled is still the answer (even if another id took its slot meanwhile).
        const recalled = this.#recent.recall(snap.version, kind, id);
        const list = await read(recalled?.list);
        this.#observe(kind === 'u' ? 'user-recs' : 'similar-items', (performance.now() - t0) / 1000, true);
        if (recalled && list === recalled.list) return { remembered: recalled, degraded: false };
        // Ids without a list (unknown users: any id at all) are not remembered: they get the popular
        // list either way, and would only evict the lists of real users.
        return { remembered: list ? this.#recent.remember(snap.version, kind, id, list) : undefined, degraded: false };
      } catch (err) {
        this.#observe(kind === 'u' ? 'user-recs' : 'similar-items', (performance.now() - t0) / 1000, false);
        this.#watcher.reportStoreError(err);
      }
    }
    return { remembered: this.#recent.recall(snap.version, kind, id), degraded: true };
  }
}

/**
 * The key under which a selection for `q` is reused, or undefined when it is not (an exclude list
 * is per request: caching every combination would only fill memory).
 */
function queryKey(q: ListQuery): string | undefined {
  if (q.exclude !== undefined && q.exclude.length > 0) return undefined;
  return q.genre === undefined ? String(q.k) : `${q.k}\0${q.genre}`;
}

/** selectItems on `list` (what `remembered` holds), reusing the selection last made from it for the same query. */
function selectRemembered(snap: VersionSnapshot, remembered: RememberedList, list: Ranked, q: ListQuery): Selection {
  const key = queryKey(q);
  if (key !== undefined && remembered.query === key && remembered.selection) return remembered.selection;
  const selection = selectItems(snap, list, q);
  if (key !== undefined) {
    remembered.query = key;
    remembered.selection = selection;
  }
  return selection;
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
  return { idx, scores, itemsJson: undefined, answer: undefined };
}
