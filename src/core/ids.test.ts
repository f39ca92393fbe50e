import { describe, expect, it } from 'vitest';
import { IdMap } from './ids.js';

describe('IdMap', () => {
  it('assigns dense indices in order of first appearance', () => {
    const m = new IdMap();
    expect(m.getOrAdd('b')).toBe(0);
    expect(m.getOrAdd('a')).toBe(1);
    expect(m.getOrAdd('b')).toBe(0);
    expect(m.size).toBe(2);
    expect(m.idOf(1)).toBe('a');
    expect(m.indexOf('zz')).toBe(-1);
    expect(m.toArray()).toEqual(['b', 'a']);
  });

  it('round-trips through an array and rejects duplicates', () => {
    expect(IdMap.fromArray(['x', 'y']).indexOf('y')).toBe(1);
    expect(() => IdMap.fromArray(['x', 'x'])).toThrow(/duplicate id "x"/);
  });

  it('throws on an index out of range', () => {
    expect(() => new IdMap().idOf(0)).toThrow(RangeError);
  });
});
