import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../store/event-log.js';
import { loadEventConfig } from './event-config.js';
import { userInteractions } from './user-interactions.js';

const config = loadEventConfig('');
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

  it('brings a disliked item back with a later positive event, and works without a training row', () => {
    const events = [ev('b', 'dislike'), ev('b', 'click'), ev('a', 'view')];
    expect(plain(userInteractions(null, events, itemIndex, config, false))).toEqual({ items: [0, 1], values: [1, 2], exclude: [] });
    expect(plain(userInteractions(null, [], itemIndex, config, false))).toEqual({ items: [], values: [], exclude: [] });
  });
});
