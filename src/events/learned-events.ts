/**
 * @module Events a served model already learned: a model trained on an `rtrec events export` carries
 * the export's watermark (manifest `training.eventsWatermark`, version meta `eventsWatermark`), and
 * the online update must not apply those events again on top of the training rows that hold them.
 *
 * An event is learned when the export read it (see EventsWatermark). The online value of a pair is
 * its training value with the user's events folded on top in log order (user-interactions.ts), and
 * the training row of a pair the export made a row of already holds its learned events; what is
 * left to fold is what those did not already decide. For one user, per item:
 *
 * - if the export made a training row of the pair (its learned events, by the export's own rules,
 *   end positive), the learned events are left out. The pair's *anchor* is its last learned event
 *   that gives it a value for the served model: a `rating` for a ratings model, an event of positive
 *   strength for a strengths model. An event before the anchor in the log cannot override what the
 *   row holds, so a reset before the anchor (a dislike; for a ratings model also a rating, which
 *   replaces the value), learned or not, is left out together with every event before it. What
 *   remains before the anchor are additive strengths with no reset between them and the anchor:
 *   they still count (a strength adds the same before or after the row). Events after the anchor
 *   (not learned: logged after the export, before `since`, of a type the export left out) are
 *   folded on top of the row as usual, in log order, so a newer dislike still removes the item.
 *   Example: a dislike before `--since` and a purchase after it leave the row (5), not an excluded
 *   item; ratings 2 before `since` and 5 after leave the row's 5 under a ratings model.
 *   A pair whose row came from other types only (a ratings model, no learned rating after the last
 *   learned dislike: an export without `--types rating`) has no anchor: only the events up to its
 *   last learned dislike are left out, as those are all the row is known to override.
 * - otherwise (the export left the pair out: its last learned word is a dislike, or it is not
 *   positive) nothing is left out: the training data holds nothing of them, so the dislike still
 *   removes and excludes the item, as without a watermark.
 *
 * With `--since`, an unlearned event logged between a pair's learned events (a back-dated event)
 * cannot be placed exactly: the row sums learned strengths from both sides of it. It is treated by
 * the rule above: before the anchor, a back-dated dislike is left out and the row is kept whole
 * (with the learned strengths before it, which the log order would have reset); after the anchor
 * it removes the item, as the log order says. The rows are decided with the server's event
 * weights, which must be the export's (both read `RTREC_EVENT_WEIGHTS`).
 *
 * Learned events were all in the log before the version existed, so the first read of a user's log
 * for a version holds all of them: the filter is exact per call. A batch whose first event is past
 * the watermark (every later fold) costs one comparison.
 */
import { EVENTS_WATERMARK_META, type EventsWatermark } from '../models/manifest.js';
import { parseSeq, type StoredEvent } from '../store/event-log.js';
import type { PublishMeta } from '../store/online-store.js';
import type { EventConfig } from './event-config.js';
import { addToPair, exportKeeps, pairValue, type PairState } from './event-export.js';
import { RATING_TYPE, eventStrength, isDislike } from './event-config.js';

/** A watermark prepared for per-event checks. */
export interface LearnedFilter {
  readonly watermark: EventsWatermark;
  readonly through: readonly [number, number];
  readonly types: ReadonlySet<string> | undefined;
}

const parsed = new WeakMap<PublishMeta, LearnedFilter | null>();

/**
 * The filter for a version's meta, or undefined for a version without a watermark (or an unreadable
 * one: then everything is folded, as before watermarks). Parsed once per meta object.
 */
export function learnedFilterOf(meta: PublishMeta): LearnedFilter | undefined {
  let filter = parsed.get(meta);
  if (filter === undefined) {
    filter = null;
    const text = meta[EVENTS_WATERMARK_META];
    if (typeof text === 'string') {
      try {
        filter = learnedFilter(JSON.parse(text) as EventsWatermark) ?? null;
      } catch {
        filter = null;
      }
    }
    parsed.set(meta, filter);
  }
  return filter ?? undefined;
}

/** The filter for `watermark`, or undefined when its position is not a log position. */
export function learnedFilter(watermark: EventsWatermark): LearnedFilter | undefined {
  const through = typeof watermark.through === 'string' ? parseSeq(watermark.through) : undefined;
  if (!through) return undefined;
  return { watermark, through, types: watermark.types ? new Set(watermark.types) : undefined };
}

/** True when the export behind `filter` read `e` (so a model trained on it learned `e`). */
export function isLearned(filter: LearnedFilter, e: StoredEvent, config: EventConfig): boolean {
  if (!atOrBefore(e.seq, filter.through)) return false;
  const since = filter.watermark.since;
  if (since !== undefined && !(e.ts >= since)) return false;
  return exportKeeps(e, config, filter.types);
}

/**
 * One user's `events` (log order) without what the model learned and what its training rows
 * override, by the rules in the module doc. `ratings`: the served model's values are ratings
 * (explicit feedback), as for userInteractions. Returns `events` itself when nothing is left out.
 */
export function unlearnedEvents(events: readonly StoredEvent[], filter: LearnedFilter | undefined, config: EventConfig, ratings: boolean): readonly StoredEvent[] {
  if (!filter || events.length === 0 || !atOrBefore(events[0].seq, filter.through)) return events;
  // Per item: the export's state over the learned events, the anchor (-1: none since the last
  // learned dislike) and the last learned dislike.
  const pairs = new Map<string, { state: PairState; anchor: number; lastDislike: number }>();
  const learned = new Uint8Array(events.length);
  for (let j = 0; j < events.length; j++) {
    const e = events[j];
    if (!isLearned(filter, e, config)) continue;
    learned[j] = 1;
    let p = pairs.get(e.itemId);
    if (!p) pairs.set(e.itemId, (p = { state: { rating: undefined, strength: 0, disliked: false }, anchor: -1, lastDislike: -1 }));
    addToPair(p.state, e, config);
    if (isDislike(config, e.type)) {
      p.lastDislike = j;
      p.anchor = -1;
    } else if (ratings ? e.type === RATING_TYPE : eventStrength(config, e.type, e.value) > 0) p.anchor = j;
  }
  // Per item with a row: the last index left out together with everything before it.
  const cuts = new Map<string, number>();
  for (const [itemId, p] of pairs) {
    if (pairValue(p.state) !== undefined) cuts.set(itemId, p.lastDislike);
  }
  if (cuts.size === 0) return events;
  for (let j = 0; j < events.length; j++) {
    const e = events[j];
    const anchor = pairs.get(e.itemId)?.anchor ?? -1;
    if (j >= anchor || !cuts.has(e.itemId)) continue;
    if (isDislike(config, e.type) || (ratings && e.type === RATING_TYPE)) cuts.set(e.itemId, j);
  }
  const out: StoredEvent[] = [];
  for (let j = 0; j < events.length; j++) {
    const e = events[j];
    const cut = cuts.get(e.itemId);
    if (cut !== undefined && (learned[j] === 1 || j <= cut)) continue;
    out.push(e);
  }
  return out.length === events.length ? events : out;
}

/** True when log position `seq` is at or before `through` (an unreadable position is not). */
function atOrBefore(seq: string, through: readonly [number, number]): boolean {
  const p = parseSeq(seq);
  return p !== undefined && (p[0] < through[0] || (p[0] === through[0] && p[1] <= through[1]));
}
