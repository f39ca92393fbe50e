/**
 * @module One user's interactions as the online update sees them: the user's training row (when the
 * model knows the user) overlaid with the user's logged events, in log order. What an event does
 * depends on what the model's values mean:
 *
 * - Ratings (a model trained on explicit ratings, e.g. explicit ALS): a `rating` event sets the pair's
 *   rating (the latest one wins, replacing the training rating). Other positive event types carry no
 *   rating, so they do not move the user's vector (they are logged and exported with their weight),
 *   but their items count as seen and are not recommended back.
 * - Strengths (implicit models: iALS, EASE, popularity-free item models): every positive event adds
 *   its strength (the weight; for `rating`, the value) to the pair's training value. An event of a
 *   type weighing 0 adds nothing, but its item counts as seen and is not recommended back.
 * - Dislikes (negative weight), for every model: the item leaves the interactions and is never
 *   recommended to the user, until a later event that puts the item back into the interactions.
 *
 * Events on items the version does not know are skipped here (they stay in the log for training).
 *
 * Folding is incremental: the result of folding some events is all that folding the next ones needs
 * (`foldEvents(userInteractions(base, a), b)` equals `userInteractions(base, a ++ b)`), so the
 * online update keeps each user's result and folds in only what was logged since.
 */
import { pairedArrays, pairedCopy } from '../core/paired-arrays.js';
import type { StoredEvent } from '../store/event-log.js';
import { RATING_TYPE, eventStrength, isDislike, type EventConfig } from './event-config.js';

export interface UserInteractions {
  /** Item indices, ascending, with `values` at the same positions. */
  readonly items: Int32Array;
  readonly values: Float32Array;
  /** Further item indices never to recommend (disliked, or seen without a value), ascending. */
  readonly exclude: Int32Array;
}

export interface BaseRow {
  /** Training item indices of the user and their values. */
  readonly items: ArrayLike<number>;
  readonly values: ArrayLike<number>;
}

const NOTHING: UserInteractions = { items: new Int32Array(0), values: new Float32Array(0), exclude: new Int32Array(0) };

/**
 * Combines `base` (null for a user unknown at training time) with `events` (log order).
 * `itemIndex` maps an external item id to the version's item index.
 */
export function userInteractions(
  base: BaseRow | null,
  events: readonly StoredEvent[],
  itemIndex: (itemId: string) => number | undefined,
  config: EventConfig,
  ratings: boolean,
): UserInteractions {
  return foldEvents(base ? ascendingRow(base) : NOTHING, events, itemIndex, config, ratings);
}

/**
 * Folds further `events` (log order) into `prev`, an earlier result of userInteractions/foldEvents
 * for the same user, version and model. `prev` is not modified, and the result shares its arrays
 * where they did not change: `result.items === prev.items && result.values === prev.values` means
 * the events changed at most what is excluded (e.g. non-rating events for a rating model), so the
 * user's vector and scores are unchanged.
 */
export function foldEvents(
  prev: UserInteractions,
  events: readonly StoredEvent[],
  itemIndex: (itemId: string) => number | undefined,
  config: EventConfig,
  ratings: boolean,
): UserInteractions {
  // Only the items the events touch are tracked (null: the item lost its value), then merged into
  // copies of prev's arrays: a user's history can be long, a group brings a few events per user.
  let changed: Map<number, number | null> | undefined;
  let exclude: Set<number> | undefined;
  const valueOf = (i: number): number | undefined => {
    const c = changed?.get(i);
    if (c !== undefined) return c ?? undefined;
    const at = sortedIndexOf(prev.items, i);
    return at >= 0 ? prev.values[at] : undefined;
  };
  const excludeSet = (): Set<number> => (exclude ??= new Set(prev.exclude));
  const excluded = (i: number): boolean => (exclude ? exclude.has(i) : sortedIndexOf(prev.exclude, i) >= 0);
  for (const e of events) {
    const i = itemIndex(e.itemId);
    if (i === undefined) continue;
    // `exclude` holds exactly: disliked items, and items seen without a value (ratings: any other
    // type; strengths: a type of weight 0).
    if (isDislike(config, e.type)) {
      if (valueOf(i) !== undefined) (changed ??= new Map()).set(i, null);
      if (!excluded(i)) excludeSet().add(i);
      continue;
    }
    const strength = eventStrength(config, e.type, e.value);
    if (ratings) {
      if (e.type !== RATING_TYPE) {
        // Seen: excluded unless it has a value; a disliked item stays disliked.
        if (valueOf(i) === undefined && !excluded(i)) excludeSet().add(i);
        continue;
      }
      if (excluded(i)) excludeSet().delete(i);
      (changed ??= new Map()).set(i, strength);
    } else if (strength > 0) {
      if (excluded(i)) excludeSet().delete(i);
      (changed ??= new Map()).set(i, (valueOf(i) ?? 0) + strength);
    } else if (valueOf(i) === undefined && !excluded(i)) {
      // A type of weight 0 (or one no longer configured) adds nothing, but the user saw the item.
      excludeSet().add(i);
    }
  }
  const { items, values } = changed ? mergeChanges(prev, changed) : prev;
  const ex = exclude ? Int32Array.from(exclude).sort() : prev.exclude;
  return items === prev.items && ex === prev.exclude ? prev : { items, values, exclude: ex };
}

/** `prev`'s items and values with `changed` applied (null removes the item), ascending. */
function mergeChanges(prev: UserInteractions, changed: ReadonlyMap<number, number | null>): { items: Int32Array; values: Float32Array } {
  const keys = Int32Array.from(changed.keys()).sort();
  let size = prev.items.length;
  for (const i of keys) {
    const had = sortedIndexOf(prev.items, i) >= 0;
    const has = changed.get(i) !== null;
    size += (has ? 1 : 0) - (had ? 1 : 0);
  }
  const { ints: items, floats: values } = pairedArrays(size);
  let o = 0;
  let p = 0;
  for (const i of keys) {
    while (p < prev.items.length && prev.items[p] < i) {
      items[o] = prev.items[p];
      values[o++] = prev.values[p++];
    }
    if (p < prev.items.length && prev.items[p] === i) p++;
    const v = changed.get(i);
    if (v !== null && v !== undefined) {
      items[o] = i;
      values[o++] = v;
    }
  }
  for (; p < prev.items.length; p++, o++) {
    items[o] = prev.items[p];
    values[o] = prev.values[p];
  }
  return { items, values };
}

/** A training row as interactions: copied, and sorted by item (a later duplicate wins) if it is not ascending. */
function ascendingRow(base: BaseRow): UserInteractions {
  const { ints: items, floats: values } = pairedCopy(base.items, base.values);
  if (isAscending(items)) return { items, values, exclude: NOTHING.exclude };
  const value = new Map<number, number>();
  for (let j = 0; j < items.length; j++) value.set(items[j], values[j]);
  const sorted = pairedArrays(value.size);
  sorted.ints.set(Array.from(value.keys()).sort((a, b) => a - b));
  for (let j = 0; j < sorted.ints.length; j++) sorted.floats[j] = value.get(sorted.ints[j])!;
  return { items: sorted.ints, values: sorted.floats, exclude: NOTHING.exclude };
}

/** Position of `x` in ascending `a`, or -1. */
export function sortedIndexOf(a: Int32Array, x: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = a[mid];
    if (v === x) return mid;
    if (v < x) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

function isAscending(a: Int32Array): boolean {
  for (let j = 1; j < a.length; j++) if (a[j] <= a[j - 1]) return false;
  return true;
}
