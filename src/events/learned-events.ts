/**
 * @module Events a served model already learned: a model trained on an `rtrec events export` carries
 * the export's watermark (manifest `training.eventsWatermark`, version meta `eventsWatermark`), and
 * the online update must not apply those events again on top of the training rows that hold them.
 *
 * An event is learned when the export read it (see EventsWatermark). For one user, per item:
 *
 * - if the export made a training row of the pair (its learned events, by the export's own rules,
 *   end positive), the learned events are left out, and so is every event before the pair's last
 *   learned dislike (a dislike resets the pair, so they could not matter);
 * - otherwise (the export left the pair out: its last learned word is a dislike, or it is not
 *   positive) nothing is left out: the training data holds nothing of them, so the dislike still
 *   removes and excludes the item, as without a watermark.
 *
 * Events not learned (later in the log, before `since`, of a type the export left out) are folded
 * as usual, in log order. The rows are decided with the server's event weights, which must be the
 * export's (both read `RTREC_EVENT_WEIGHTS`).
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
import { isDislike } from './event-config.js';

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
 * One user's `events` (log order) without what the model learned, by the rules in the module doc.
 * Returns `events` itself when nothing is left out.
 */
export function unlearnedEvents(events: readonly StoredEvent[], filter: LearnedFilter | undefined, config: EventConfig): readonly StoredEvent[] {
  if (!filter || events.length === 0 || !atOrBefore(events[0].seq, filter.through)) return events;
  // Per item: the export's state over the learned events, and the index of the last learned dislike.
  const pairs = new Map<string, { state: PairState; lastDislike: number }>();
  const learned = new Uint8Array(events.length);
  for (let j = 0; j < events.length; j++) {
    const e = events[j];
    if (!isLearned(filter, e, config)) continue;
    learned[j] = 1;
    let p = pairs.get(e.itemId);
    if (!p) pairs.set(e.itemId, (p = { state: { rating: undefined, strength: 0, disliked: false }, lastDislike: -1 }));
    addToPair(p.state, e, config);
    if (isDislike(config, e.type)) p.lastDislike = j;
  }
  if (pairs.size === 0) return events;
  const out: StoredEvent[] = [];
  for (let j = 0; j < events.length; j++) {
    const e = events[j];
    const p = pairs.get(e.itemId);
    if (p && pairValue(p.state) !== undefined && (learned[j] === 1 || j < p.lastDislike)) continue;
    out.push(e);
  }
  return out.length === events.length ? events : out;
}

/** True when log position `seq` is at or before `through` (an unreadable position is not). */
function atOrBefore(seq: string, through: readonly [number, number]): boolean {
  const p = parseSeq(seq);
  return p !== undefined && (p[0] < through[0] || (p[0] === through[0] && p[1] <= through[1]));
}
