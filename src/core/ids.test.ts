import { describe, expect, it } from 'vitest';
import { IdMap, idTextProblem } from './ids.js';

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

describe('idTextProblem', () => {
  it('refuses lone surrogates (no UTF-8 form) and control characters, and accepts any well-formed text', () => {
    for (const id of ['\ud800', 'a\udbffz', '\udc00', 'x\ude00\ud83d']) expect(idTextProblem(id), JSON.stringify(id)).toMatch(/^is not well-formed Unicode/);
    // The collision it prevents: both become U+FFFD in UTF-8.
    expect(Buffer.from('\ud800', 'utf8').toString('utf8')).toBe(Buffer.from('\udfff', 'utf8').toString('utf8'));
    expect(idTextProblem('tab\there')).toBe('holds a control character');
    for (const id of ['u1', '\ud83d\ude00', '日本', '\ufffd', 'ü']) expect(idTextProblem(id), id).toBeUndefined();
  });
});
