import { describe, expect, it } from 'vitest';
import type { Ranked } from '../models/recommender.js';
import { RecentAnswers } from './recent-answers.js';

function list(x: number): Ranked {
  return { items: Int32Array.of(x), scores: Float32Array.of(x / 10) };
}

describe('RecentAnswers', () => {
  it('recalls what was remembered for the same version, kind and id only', () => {
    // Big enough that these three keys land in distinct slots (the hash is deterministic).
    const recent = new RecentAnswers(1 << 16);
    recent.remember(3, 'u', 'alice', list(1));
    recent.remember(3, 's', 'alice', list(2));
    expect(recent.recall(3, 'u', 'alice')?.list).toEqual(list(1));
    expect(recent.recall(3, 's', 'alice')?.list).toEqual(list(2));
    expect(recent.recall(4, 'u', 'alice')).toBeUndefined();
    expect(recent.recall(3, 'u', 'bob')).toBeUndefined();
  });

  it('keeps the newest answer for an id', () => {
    const recent = new RecentAnswers(8);
    recent.remember(1, 'u', 'alice', list(1));
    recent.remember(1, 'u', 'alice', list(5));
    expect(recent.recall(1, 'u', 'alice')?.list).toEqual(list(5));
  });

  it('never holds more than its size: with one slot, each answer evicts the previous one', () => {
    const recent = new RecentAnswers(1);
    recent.remember(1, 'u', 'alice', list(1));
    recent.remember(1, 'u', 'bob', list(2));
    expect(recent.recall(1, 'u', 'alice')).toBeUndefined();
    expect(recent.recall(1, 'u', 'bob')?.list).toEqual(list(2));
  });

  it('with size 0 remembers nothing', () => {
    const recent = new RecentAnswers(0);
    recent.remember(1, 'u', 'alice', list(1));
    expect(recent.recall(1, 'u', 'alice')).toBeUndefined();
  });

  it('holds most of a working set that fits its size', () => {
    const recent = new RecentAnswers(4096);
    for (let i = 0; i < 1000; i++) recent.remember(1, 'u', `user-${i}`, list(i));
    let held = 0;
    for (let i = 0; i < 1000; i++) if (recent.recall(1, 'u', `user-${i}`) !== undefined) held++;
    // 1000 ids in 4096 slots: about 1000·(1 − e^(−1000/4096))/(1000/4096) ≈ 886 expected survivors.
    expect(held).toBeGreaterThan(800);
  });

  it('keeps the entry, with its selection, while the same list is read again', () => {
    const recent = new RecentAnswers(8);
    const first = recent.remember(1, 'u', 'alice', list(1));
    first.query = '10';
    first.selection = { idx: [1], scores: [0.1], itemsJson: undefined, answer: undefined };
    // A new read decodes new arrays with the same content: the entry (and its selection) is kept.
    expect(recent.remember(1, 'u', 'alice', list(1))).toBe(first);
    const changed = recent.remember(1, 'u', 'alice', list(2));
    expect(changed).not.toBe(first);
    expect(changed.selection).toBeUndefined();
    // The same list under another version is a different answer (another catalogue).
    expect(recent.remember(2, 'u', 'alice', list(2))).not.toBe(changed);
  });

  it('compares whole lists: a change in the last score is a change', () => {
    const recent = new RecentAnswers(8);
    const long = { items: Int32Array.from({ length: 100 }, (_, j) => j), scores: Float32Array.from({ length: 100 }, (_, j) => 1 - j / 100) };
    const first = recent.remember(1, 'u', 'bob', long);
    const tail = { items: long.items.slice(), scores: long.scores.slice() };
    tail.scores[99] = 0;
    expect(recent.remember(1, 'u', 'bob', tail)).not.toBe(first);
    const reordered = { items: tail.items.slice().reverse(), scores: tail.scores.slice() };
    expect(recent.remember(1, 'u', 'bob', reordered).list).toBe(reordered);
  });
});
