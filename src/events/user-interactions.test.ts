import { describe, expect, it } from 'vitest';
import { createRng } from '../core/rng.js';
import type { StoredEvent } from '../store/event-log.js';
import { loadEventConfig } from './event-config.js';
import { foldEvents, userInteractions } from './user-interactions.js';

const config = loadEventConfig('impression=0');
const index = new Map([['a', 0], ['b', 1], ['c', 2], ['d', 3]]);
const itemIndex = (id: string) => index.get(id);
let seq = 0;
const ev = (itemId: string, type: string, value?: number): StoredEvent => ({ eventId: `e${++seq}`, userId: 'u', itemId, type, ts: seq, seq: String(seq), ...(value === undefined ? {} : { value }) });
const plain = (r: ReturnType<typeof userInteractions>) => ({ items: [...r.items], values: [...r.values], exclude: [...r.exclude] });

describe('userInteractions', () => {
  it('with strengths: adds event weights to the training values and drops disliked items', () => {
    const base = { items: [0, 2], values: [1, 2] };
    const events = [ev('a', 'purchase'), ev('b', 'view'), ev('b', 'click'), ev('c', 'dislike'), ev('zzz', 'purchase'), ev('d', 'rating', 4)];
    // a: 1 + 5; b: 1 + 2; c: disliked; d: rating strength 4; zzz: unknown item, skipped.
    expect(plain(userInteractions(base, events, itemIndex, config, false))).toEqual({ items: [0, 1, 3], values: [6, 3, 4], exclude: [2] });
  });

  it('with ratings: the latest rating wins, other events only mark items seen', () => {
    const base = { items: [0, 1], values: [2, 3] };
    const events = [ev('a', 'rating', 5), ev('a', 'rating', 1.5), ev('c', 'purchase'), ev('b', 'dislike')];
    expect(plain(userInteractions(base, events, itemIndex, config, true))).toEqual({ items: [0], values: [1.5], exclude: [1, 2] });
  });

  it('with strengths: a type of weight 0 adds nothing but marks the item seen (never recommended back)', () => {
    const events = [ev('c', 'impression'), ev('a', 'impression'), ev('d', 'dislike'), ev('d', 'impression')];
    // a keeps its training value; c is seen; d stays disliked.
    expect(plain(userInteractions({ items: [0], values: [2] }, events, itemIndex, config, false))).toEqual({ items: [0], values: [2], exclude: [2, 3] });
    const later = userInteractions(null, [ev('c', 'impression'), ev('c', 'click')], itemIndex, config, false);
    expect(plain(later)).toEqual({ items: [2], values: [2], exclude: [] });
  });

  it('brings a disliked item back with a later positive event, and works without a training row', () => {
    const events = [ev('b', 'dislike'), ev('b', 'click'), ev('a', 'view')];
    expect(plain(userInteractions(null, events, itemIndex, config, false))).toEqual({ items: [0, 1], values: [1, 2], exclude: [] });
    expect(plain(userInteractions(null, [], itemIndex, config, false))).toEqual({ items: [], values: [], exclude: [] });
  });
});

/** Slow reference with the original two-set formulation: disliked items, and items seen without a rating. */
function reference(base: { items: number[]; values: number[] } | null, events: readonly StoredEvent[], ratings: boolean) {
  const value = new Map<number, number>();
  if (base) base.items.forEach((i, j) => value.set(i, base.values[j]));
  const disliked = new Set<number>();
  const seenOnly = new Set<number>();
  for (const e of events) {
    const i = itemIndex(e.itemId);
    if (i === undefined) continue;
    const w = e.type === 'rating' ? (e.value ?? 0) : config.weights[e.type];
    if (e.type !== 'rating' && w < 0) {
      disliked.add(i);
      value.delete(i);
    } else if (ratings) {
      if (e.type !== 'rating') seenOnly.add(i);
      else {
        disliked.delete(i);
        value.set(i, w);
      }
    } else if (w > 0) {
      disliked.delete(i);
      value.set(i, (value.get(i) ?? 0) + w);
    } else {
      seenOnly.add(i);
    }
  }
  const items = [...value.keys()].sort((a, b) => a - b);
  const exclude = [...new Set([...disliked, ...[...seenOnly].filter((i) => !value.has(i))])].sort((a, b) => a - b);
  return { items, values: items.map((i) => Math.fround(value.get(i)!)), exclude };
}

describe('foldEvents', () => {
  it('folding in steps equals folding everything at once, and the two-set reference', () => {
    const rng = createRng(17);
    const types = ['view', 'click', 'purchase', 'dislike', 'rating', 'rating', 'impression'];
    for (let trial = 0; trial < 300; trial++) {
      const ratings = trial % 2 === 0;
      // No training row, an ascending one, and one out of order (training rows need not be sorted).
      const base = trial % 3 === 0 ? null : trial % 3 === 1 ? { items: [0, 2], values: [3, 1.5] } : { items: [3, 0, 2], values: [2, 3, 1.5] };
      const events = Array.from({ length: rng.int(12) }, () => {
        const type = types[rng.int(types.length)];
        return ev(['a', 'b', 'c', 'd', 'zzz'][rng.int(5)], type, type === 'rating' ? 0.5 + rng.int(10) / 2 : undefined);
      });
      const once = userInteractions(base, events, itemIndex, config, ratings);
      expect(plain(once)).toEqual(reference(base, events, ratings));
      let stepped = userInteractions(base, [], itemIndex, config, ratings);
      for (let at = 0; at < events.length; ) {
        const next = at + 1 + rng.int(3);
        stepped = foldEvents(stepped, events.slice(at, next), itemIndex, config, ratings);
        at = next;
      }
      expect(plain(stepped)).toEqual(plain(once));
    }
  });

  it('keeps the arrays when events only exclude items, so callers know the user vector is unchanged', () => {
    const start = userInteractions({ items: [0, 1], values: [4, 2] }, [], itemIndex, config, true);
    const viewed = foldEvents(start, [ev('c', 'view'), ev('a', 'purchase')], itemIndex, config, true);
    expect(viewed.items).toBe(start.items);
    expect(viewed.values).toBe(start.values);
    expect([...viewed.exclude]).toEqual([2]);
    expect(foldEvents(viewed, [ev('zzz', 'view'), ev('c', 'click')], itemIndex, config, true)).toBe(viewed);
    const rated = foldEvents(viewed, [ev('c', 'rating', 4)], itemIndex, config, true);
    expect(rated.items).not.toBe(start.items);
    expect(plain(rated)).toEqual({ items: [0, 1, 2], values: [4, 2, 4], exclude: [] });
    // Dislike of an unrated item only excludes; of a rated one it changes the interactions.
    expect(foldEvents(start, [ev('d', 'dislike')], itemIndex, config, true).items).toBe(start.items);
    expect(plain(foldEvents(start, [ev('b', 'dislike')], itemIndex, config, true))).toEqual({ items: [0], values: [4], exclude: [1] });
  });
});
