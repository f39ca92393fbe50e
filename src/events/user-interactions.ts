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
 *   its strength (the weight; for `rating`, the value) to the pair's training value.
 * - Dislikes (negative weight), for every model: the item leaves the interactions and is never
 *   recommended to the user, until a later event that puts the item back into the interactions.
 *
 * Events on items the version does not know are skipped here (they stay in the log for training).
 */
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
  const value = new Map<number, number>();
  if (base) for (let j = 0; j < base.items.length; j++) value.set(base.items[j], base.values[j]);
  const disliked = new Set<number>();
  const seenOnly = new Set<number>();
  for (const e of events) {
    const i = itemIndex(e.itemId);
    if (i === undefined) continue;
    if (isDislike(config, e.type)) {
      disliked.add(i);
      value.delete(i);
      continue;
    }
    const strength = eventStrength(config, e.type, e.value);
    if (ratings) {
      if (e.type !== RATING_TYPE) {
        seenOnly.add(i);
        continue;
      }
      disliked.delete(i);
      value.set(i, strength);
    } else if (strength > 0) {
      disliked.delete(i);
      value.set(i, (value.get(i) ?? 0) + strength);
    }
  }
  const items = Int32Array.from([...value.keys()].sort((a, b) => a - b));
  const values = Float32Array.from(items, (i) => value.get(i) ?? 0);
  const exclude = new Set([...disliked, ...[...seenOnly].filter((i) => !value.has(i))]);
  return { items, values, exclude: Int32Array.from([...exclude].sort((a, b) => a - b)) };
}
