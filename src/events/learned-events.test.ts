import { describe, expect, it } from 'vitest';
import { EVENTS_WATERMARK_META, type EventsWatermark } from '../models/manifest.js';
import { parseSeq, type StoredEvent } from '../store/event-log.js';
import { createRng } from '../core/rng.js';
import { loadEventConfig } from './event-config.js';
import { addToPair, pairValue, type PairState } from './event-export.js';
import { isLearned, learnedFilter, learnedFilterOf, unlearnedEvents, type LearnedFilter } from './learned-events.js';
import { userInteractions, type UserInteractions } from './user-interactions.js';

const config = loadEventConfig('');
const wm = (through: string, extra: Partial<EventsWatermark> = {}): EventsWatermark => ({ through, store: 'lmdb:///x', exportedAt: '2026-01-01T00:00:00.000Z', ...extra });
/** Events of one user; `seq` = position in the list + 1 (like LMDB), `ts` = seq unless given. */
function log(...rows: [itemId: string, type: string, value?: number, ts?: number][]): StoredEvent[] {
  return rows.map(([itemId, type, value, ts], j) => ({ eventId: `e${j}`, userId: 'u', itemId, type, ts: ts ?? j + 1, seq: String(j + 1), ...(value === undefined ? {} : { value }) }));
}
const seqs = (events: readonly StoredEvent[]) => events.map((e) => Number(e.seq));
const ITEMS = ['book', 'lamp', 'sofa'];
const itemIndex = (id: string): number | undefined => {
  const i = ITEMS.indexOf(id);
  return i < 0 ? undefined : i;
};

/**
 * What the server makes of the user's pairs: the training row a model trained on the export alone
 * holds (the export's value of each pair's learned events), with the unlearned events folded on top.
 */
function online(events: readonly StoredEvent[], filter: LearnedFilter, ratings: boolean): UserInteractions {
  const states = new Map<string, PairState>();
  for (const e of events) {
    if (!isLearned(filter, e, config)) continue;
    let p = states.get(e.itemId);
    if (!p) states.set(e.itemId, (p = { rating: undefined, strength: 0, disliked: false }));
    addToPair(p, e, config);
  }
  const row = { items: [] as number[], values: [] as number[] };
  for (const [itemId, p] of states) {
    const value = pairValue(p);
    if (value === undefined) continue;
    row.items.push(itemIndex(itemId)!);
    row.values.push(value);
  }
  return userInteractions(row, unlearnedEvents(events, filter, config, ratings), itemIndex, config, ratings);
}

/** The same interactions as plain item → value and excluded items, for comparing. */
function plain(x: UserInteractions): { values: Record<string, number>; exclude: string[] } {
  const values: Record<string, number> = {};
  x.items.forEach((i, j) => (values[ITEMS[i]] = x.values[j]));
  return { values, exclude: [...x.exclude].map((i) => ITEMS[i]) };
}

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
    expect(seqs(unlearnedEvents(events, learnedFilter(wm('4')), config, false))).toEqual([5, 6]);
  });

  it('keeps every event of a pair the export left out (last learned word a dislike), so the item stays excluded', () => {
    const events = log(['book', 'purchase'], ['book', 'dislike'], ['lamp', 'view'], ['book', 'view']);
    // book's learned events end with a dislike: no row, so they are folded as before; lamp had a row.
    expect(seqs(unlearnedEvents(events, learnedFilter(wm('3')), config, false))).toEqual([1, 2, 4]);
  });

  it('with --since: older events are not learned, but those before a learned dislike of a row pair are dropped', () => {
    // ts: book view at 1 (before since 10), book dislike at 10, book purchase at 11 → row 5; lamp view at 2 (before since).
    const events = log(['book', 'view', undefined, 1], ['lamp', 'view', undefined, 2], ['book', 'dislike', undefined, 10], ['book', 'purchase', undefined, 11]);
    expect(seqs(unlearnedEvents(events, learnedFilter(wm('4', { since: 10 })), config, false))).toEqual([2]);
    // Without the dislike the old view adds to the row: it is kept.
    const plain = log(['book', 'view', undefined, 1], ['book', 'purchase', undefined, 11]);
    expect(seqs(unlearnedEvents(plain, learnedFilter(wm('2', { since: 10 })), config, false))).toEqual([1]);
  });

  it('with --since: a dislike before since does not override the row of a later purchase (the item is not excluded)', () => {
    // book: dislike at 1 (before since 10, not exported), purchase at 11 (learned) → row 5.
    const events = log(['book', 'dislike', undefined, 1], ['book', 'purchase', undefined, 11]);
    const filter = learnedFilter(wm('2', { since: 10 }))!;
    expect(seqs(unlearnedEvents(events, filter, config, false))).toEqual([]);
    expect(plain(online(events, filter, false))).toEqual({ values: { book: 5 }, exclude: [] });
    // Additive strengths count only after the last reset before the learned ones: view (1) + purchase (5).
    const more = log(['book', 'click', undefined, 1], ['book', 'dislike', undefined, 2], ['book', 'view', undefined, 3], ['book', 'purchase', undefined, 11]);
    expect(seqs(unlearnedEvents(more, learnedFilter(wm('4', { since: 10 })), config, false))).toEqual([3]);
    expect(plain(online(more, learnedFilter(wm('4', { since: 10 }))!, false))).toEqual({ values: { book: 6 }, exclude: [] });
  });

  it('with --since: an older rating does not replace the learned one under a ratings model, and adds under a strengths model', () => {
    const events = log(['book', 'rating', 2, 1], ['book', 'rating', 5, 11]);
    const filter = learnedFilter(wm('2', { since: 10 }))!;
    expect(seqs(unlearnedEvents(events, filter, config, true))).toEqual([]);
    expect(plain(online(events, filter, true))).toEqual({ values: { book: 5 }, exclude: [] });
    // A strengths model adds every rating's value: both count, as without a watermark.
    expect(seqs(unlearnedEvents(events, filter, config, false))).toEqual([1]);
    expect(plain(online(events, filter, false))).toEqual(plain(userInteractions(null, events, itemIndex, config, false)));
  });

  it('a back-dated dislike logged between learned events: after the last learned value it removes the item, before it the row stays', () => {
    // rating 4 at 11 (learned), a dislike back-dated to 5 logged after it, then a view at 12 (learned).
    const events = log(['book', 'rating', 4, 11], ['book', 'dislike', undefined, 5], ['book', 'view', undefined, 12]);
    const filter = learnedFilter(wm('3', { since: 10 }))!;
    // Ratings model: the view gives no value, so the dislike is the pair's latest word, as in the log.
    expect(seqs(unlearnedEvents(events, filter, config, true))).toEqual([2]);
    expect(plain(online(events, filter, true))).toEqual({ values: {}, exclude: ['book'] });
    // Strengths model, purchase instead of rating: the view (1) adds after the dislike; the row
    // (5 + 1) cannot be split, so it stays whole rather than the item being excluded.
    const strengths = log(['book', 'purchase', undefined, 11], ['book', 'dislike', undefined, 5], ['book', 'view', undefined, 12]);
    expect(seqs(unlearnedEvents(strengths, filter, config, false))).toEqual([]);
    expect(plain(online(strengths, filter, false))).toEqual({ values: { book: 6 }, exclude: [] });
  });

  it('with --since (times in log order): the server ends where folding the whole log without a watermark ends', () => {
    const rng = createRng(7);
    const cases: [ratings: boolean, types: string[], types?: string[]][] = [
      [false, ['view', 'click', 'purchase', 'dislike']],
      [true, ['rating', 'view', 'dislike'], ['rating']],
    ];
    for (const [ratings, kinds, exported] of cases) {
      for (let n = 0; n < 300; n++) {
        const count = 1 + rng.int(10);
        const rows: [string, string, number?, number?][] = [];
        for (let j = 0; j < count; j++) {
          const type = kinds[rng.int(kinds.length)];
          rows.push([ITEMS[rng.int(2)], type, type === 'rating' ? 1 + rng.int(5) : undefined, 10 * (j + 1)]);
        }
        const events = log(...rows);
        // since between any two events, through anywhere (later events were logged after the export).
        const filter = learnedFilter(wm(String(rng.int(count + 1)), { since: 10 * rng.int(count + 1) + 5, ...(exported ? { types: exported } : {}) }))!;
        expect(plain(online(events, filter, ratings)), JSON.stringify({ ratings, rows, filter: filter.watermark })).toEqual(plain(userInteractions(null, events, itemIndex, config, ratings)));
      }
    }
  });

  it('with --types: events of other types were not exported and are kept; dislikes count as read', () => {
    const events = log(['book', 'view'], ['book', 'rating', 4], ['lamp', 'dislike'], ['lamp', 'click'], ['sofa', 'rating', 2]);
    // book: rating → row; view kept. lamp: learned dislike → no row (click not read): all kept. sofa: row.
    expect(seqs(unlearnedEvents(events, learnedFilter(wm('5', { types: ['rating'] })), config, false))).toEqual([1, 3, 4]);
  });

  it('returns the same array when nothing is learned, and compares Redis stream ids', () => {
    const events = log(['book', 'view']);
    expect(unlearnedEvents(events, learnedFilter(wm('0')), config, false)).toBe(events);
    expect(unlearnedEvents(events, undefined, config, false)).toBe(events);
    const redis = [
      { eventId: 'a', userId: 'u', itemId: 'book', type: 'view', ts: 1, seq: '1700000000000-9' },
      { eventId: 'b', userId: 'u', itemId: 'lamp', type: 'view', ts: 2, seq: '1700000000001-0' },
    ];
    expect(unlearnedEvents(redis, learnedFilter(wm('1700000000000-10')), config, false).map((e) => e.eventId)).toEqual(['b']);
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
