/**
 * @module A user's top-K list from the user's folded interactions, computed in full (fold-in and
 * rescoring of every item) or derived from the previous list when the events since changed only
 * what is excluded. The latter is what most events of a rating model do (a view or purchase marks an
 * item seen without moving the user's vector), so the scores are those of the previous list: the new
 * list is the previous ranking without the newly excluded items. For that, a full computation keeps
 * a few spare entries beyond K.
 *
 * A user whose events leave no positive interaction but exclude items (only dislikes; only views
 * under a rating model; a dislike of every item the user rated) has no vector to rank by: the
 * least-squares step of an empty row is the zero vector, every score 0. Such a user gets the
 * version's published popular list without the excluded items, marked `fromPopular` (answered with
 * source "popular"). It is a copy: the live popularity served to unknown users does not move it
 * until the user's next event.
 */
import type { Ranked } from '../models/recommender.js';
import type { TrainedModel } from '../models/trained-model.js';
import type { StoredList } from '../store/online-store.js';
import type { FoldRanker, FoldRequest } from './fold-ranker.js';
import { sortedIndexOf, type UserInteractions } from './user-interactions.js';

/** A list as remembered between events. */
export interface RankedList {
  /** K, the served list length. */
  readonly k: number;
  /** The best K + spare items (excluded and seen items left out), best first. */
  readonly extended: StoredList;
  /** True when `extended` holds every item that could be recommended (fewer qualified than asked for). */
  readonly exhaustive: boolean;
}

export interface ListUpdate extends RankedList {
  /** The served list: the first K of `extended`. */
  readonly ranked: StoredList;
  /** True when `ranked` equals the first K of the previous list (derived lists only). */
  readonly unchanged: boolean;
}

/** Spare entries kept beyond K, so several exclusions can be derived before a full recomputation. */
export function spareEntries(k: number): number {
  return Math.max(10, Math.ceil(k / 4));
}

/**
 * Scores every item for the user (fold-in of `mine`; a training user without interactions or
 * exclusions gets the model's own list) and keeps the best K + spare. Without interactions but with
 * exclusions: `popular` without them (see the module doc). Undefined when there is nothing at all
 * for a user the model does not know (the user keeps the popular list). `scratch`, if given, has
 * numItems entries.
 */
export function rankInFull(model: TrainedModel, userId: string, mine: UserInteractions, k: number, popular: Ranked, scratch?: Float32Array): ListUpdate | undefined {
  const want = k + spareEntries(k);
  const options = { k: want, excludeSeen: true, ...(mine.exclude.length > 0 ? { filter: { exclude: mine.exclude } } : {}) };
  let extended: StoredList;
  if (mine.items.length > 0) {
    extended = model.recommendFromInteractions(mine.items, mine.values, options, scratch);
  } else if (mine.exclude.length > 0) {
    extended = popularWithout(popular, mine.exclude, want);
  } else {
    const u = model.users.indexOf(userId);
    if (!(u >= 0 && u < model.numUsers)) return undefined;
    extended = model.recommend(u, options, scratch);
  }
  return { k, extended, exhaustive: extended.items.length < want, ranked: head(extended, k), unchanged: false };
}

/** A user whose list is wanted: the user's interactions now and, if remembered, before. */
export interface ListJob {
  readonly userId: string;
  readonly mine: UserInteractions;
  readonly prev: { readonly interactions: UserInteractions; readonly list?: RankedList } | undefined;
}

/**
 * The new list of each job (undefined where rankInFull gives none): derived from the previous list
 * when the events allow it (deriveList), else ranked in full, by `ranker` for users with
 * interactions (possibly on another thread: the same lists as rankInFull).
 */
export async function listsFor(model: TrainedModel, k: number, jobs: readonly ListJob[], ranker: FoldRanker, popular: Ranked): Promise<(ListUpdate | undefined)[]> {
  const lists = new Array<ListUpdate | undefined>(jobs.length);
  const requests: FoldRequest[] = [];
  const requestOf: number[] = [];
  jobs.forEach(({ userId, mine, prev }, j) => {
    const derived = prev?.list ? deriveList(prev.interactions, prev.list, mine, k) : undefined;
    if (derived) lists[j] = derived;
    else if (mine.items.length > 0) {
      requests.push({ items: mine.items, values: mine.values, exclude: mine.exclude });
      requestOf.push(j);
    } else {
      lists[j] = rankInFull(model, userId, mine, k, popular);
    }
  });
  const want = k + spareEntries(k);
  const ranked = await ranker.rank(model, requests, want);
  ranked.forEach((extended, r) => {
    lists[requestOf[r]] = { k, extended, exhaustive: extended.items.length < want, ranked: head(extended, k), unchanged: false };
  });
  return lists;
}

/**
 * The list for `mine` derived from `prev` (the list of `before`), or undefined when it cannot be:
 * the interactions changed (not the same arrays), something stopped being excluded, K differs, or too
 * few spare entries remain.
 */
export function deriveList(before: UserInteractions, prev: RankedList, mine: UserInteractions, k: number): ListUpdate | undefined {
  if (prev.k !== k || mine.items !== before.items || mine.values !== before.values) return undefined;
  const added = newlyExcluded(before.exclude, mine.exclude);
  if (added === undefined) return undefined;
  const { items, scores } = prev.extended;
  // Usually the newly excluded item is not among the kept entries at all: the list stays as it is.
  let drop: Set<number> | undefined;
  for (const x of added) {
    const at = items.indexOf(x);
    if (at >= 0) (drop ??= new Set<number>()).add(at);
  }
  if (!drop) return { k, extended: prev.extended, exhaustive: prev.exhaustive, ranked: head(prev.extended, k), unchanged: true };
  const left = items.length - drop.size;
  if (left < k && !prev.exhaustive) return undefined;
  const keptItems = new Int32Array(left);
  const keptScores = new Float32Array(left);
  let unchanged = true;
  for (let j = 0, o = 0; j < items.length; j++) {
    if (drop.has(j)) {
      if (j < k) unchanged = false;
      continue;
    }
    keptItems[o] = items[j];
    keptScores[o++] = scores[j];
  }
  const extended = withMark(prev.extended, keptItems, keptScores);
  return { k, extended, exhaustive: prev.exhaustive, ranked: head(extended, k), unchanged };
}

/** The first `want` entries of `popular` that are not in `exclude` (ascending), marked fromPopular. */
function popularWithout(popular: Ranked, exclude: Int32Array, want: number): StoredList {
  const items: number[] = [];
  const scores: number[] = [];
  for (let j = 0; j < popular.items.length && items.length < want; j++) {
    if (sortedIndexOf(exclude, popular.items[j]) >= 0) continue;
    items.push(popular.items[j]);
    scores.push(popular.scores[j]);
  }
  return { items: Int32Array.from(items), scores: Float32Array.from(scores), fromPopular: true };
}

/** The first k entries of `r`, keeping its fromPopular mark. */
function head(r: StoredList, k: number): StoredList {
  return r.items.length <= k ? r : withMark(r, r.items.slice(0, k), r.scores.slice(0, k));
}

function withMark(r: StoredList, items: Int32Array, scores: Float32Array): StoredList {
  return r.fromPopular ? { items, scores, fromPopular: true } : { items, scores };
}

/** The elements of ascending `after` missing from ascending `before`, or undefined when `before` has one `after` lacks. */
function newlyExcluded(before: Int32Array, after: Int32Array): number[] | undefined {
  if (after === before) return [];
  const added: number[] = [];
  let i = 0;
  for (let j = 0; j < after.length; j++) {
    if (i < before.length && before[i] < after[j]) return undefined;
    if (i < before.length && before[i] === after[j]) i++;
    else added.push(after[j]);
  }
  return i === before.length ? added : undefined;
}
