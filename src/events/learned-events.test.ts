import { describe, expect, it } from 'vitest';
import { EVENTS_WATERMARK_META, type EventsWatermark } from '../models/manifest.js';
import { parseSeq, type StoredEvent } from '../store/event-log.js';
import { loadEventConfig } from './event-config.js';
import { learnedFilter, learnedFilterOf, unlearnedEvents } from './learned-events.js';

const config = loadEventConfig('');
const wm = (through: string, extra: Partial<EventsWatermark> = {}): EventsWatermark => ({ through, store: 'lmdb:///x', exportedAt: '2026-01-01T00:00:00.000Z', ...extra });
/** Events of one user; `seq` = position in the list + 1 (like LMDB), `ts` = seq unless given. */
function log(...rows: [itemId: string, type: string, value?: number, ts?: number][]): StoredEvent[] {
  return rows.map(([itemId, type, value, ts], j) => ({ eventId: `e${j}`, userId: 'u', itemId, type, ts: ts ?? j + 1, seq: String(j + 1), ...(value === undefined ? {} : { value }) }));
}
const seqs = (events: readonly StoredEvent[]) => events.map((e) => Number(e.seq));

describe('parseSeq', () => {
  it('orders LMDB sequence numbers and Redis stream ids, and rejects other text', () => {
    expect(parseSeq('12')).toEqual([12, 0]);
    expect(parseSeq('1700000000000-3')).toEqual([1700000000000, 3]);
    expect(parseSeq('')).toBeUndefined();
    expect(parseSeq('abc')).toBeUndefined();
  });
});

describe('unlearnedEvents', () => {
  it('leaves out the learned events of pairs the export made a row of, keeps later events', () => {
    // book: view+purchase → row 6 (learned); lamp: dislike then click → row 2; sofa: purchase after the watermark.
    const events = log(['book', 'view'], ['book', 'purchase'], ['lamp', 'dislike'], ['lamp', 'click'], ['sofa', 'purchase'], ['book', 'click']);
    expect(seqs(unlearnedEvents(events, learnedFilter(wm('4')), config))).toEqual([5, 6]);
  });

  it('keeps every event of a pair the export left out (last learned word a dislike), so the item stays excluded', () => {
    const events = log(['book', 'purchase'], ['book', 'dislike'], ['lamp', 'view'], ['book', 'view']);
    // book's learned events end with a dislike: no row, so they are folded as before; lamp had a row.
    expect(seqs(unlearnedEvents(events, learnedFilter(wm('3')), config))).toEqual([1, 2, 4]);
  });

  it('with --since: older events are not learned, but those before a learned dislike of a row pair are dropped', () => {
    // ts: book view at 1 (before since 10), book dislike at 10, book purchase at 11 → row 5; lamp view at 2 (before since).
    const events = log(['book', 'view', undefined, 1], ['lamp', 'view', undefined, 2], ['book', 'dislike', undefined, 10], ['book', 'purchase', undefined, 11]);
    expect(seqs(unlearnedEvents(events, learnedFilter(wm('4', { since: 10 })), config))).toEqual([2]);
    // Without the dislike the old view adds to the row: it is kept.
    const plain = log(['book', 'view', undefined, 1], ['book', 'purchase', undefined, 11]);
    expect(seqs(unlearnedEvents(plain, learnedFilter(wm('2', { since: 10 })), config))).toEqual([1]);
  });

  it('with --types: events of other types were not exported and are kept; dislikes count as read', () => {
    const events = log(['book', 'view'], ['book', 'rating', 4], ['lamp', 'dislike'], ['lamp', 'click'], ['sofa', 'rating', 2]);
    // book: rating → row; view kept. lamp: learned dislike → no row (click not read): all kept. sofa: row.
    expect(seqs(unlearnedEvents(events, learnedFilter(wm('5', { types: ['rating'] })), config))).toEqual([1, 3, 4]);
  });

  it('returns the same array when nothing is learned, and compares Redis stream ids', () => {
    const events = log(['book', 'view']);
    expect(unlearnedEvents(events, learnedFilter(wm('0')), config)).toBe(events);
    expect(unlearnedEvents(events, undefined, config)).toBe(events);
    const redis = [
      { eventId: 'a', userId: 'u', itemId: 'book', type: 'view', ts: 1, seq: '1700000000000-9' },
      { eventId: 'b', userId: 'u', itemId: 'lamp', type: 'view', ts: 2, seq: '1700000000001-0' },
    ];
    expect(unlearnedEvents(redis, learnedFilter(wm('1700000000000-10')), config).map((e) => e.eventId)).toEqual(['b']);
  });

  it('reads the watermark from version meta once, and ignores a missing or unreadable one', () => {
    const meta = { [EVENTS_WATERMARK_META]: JSON.stringify(wm('7', { since: 3 })) };
    expect(learnedFilterOf(meta)?.through).toEqual([7, 0]);
    expect(learnedFilterOf(meta)).toBe(learnedFilterOf(meta));
    expect(learnedFilterOf({})).toBeUndefined();
    expect(learnedFilterOf({ [EVENTS_WATERMARK_META]: '{nope' })).toBeUndefined();
    expect(learnedFilterOf({ [EVENTS_WATERMARK_META]: JSON.stringify(wm('later')) })).toBeUndefined();
  });
});
