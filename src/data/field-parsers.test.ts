import { describe, expect, it } from 'vitest';
import { parseRating, parseTimestamp } from './field-parsers.js';

describe('parseRating', () => {
  it('accepts finite numbers', () => {
    expect(parseRating('4')).toBe(4);
    expect(parseRating('3.5')).toBe(3.5);
    expect(parseRating('-1e-3')).toBe(-0.001);
  });

  it('rejects empty, non-numeric, non-finite and float32-overflowing values with a reason', () => {
    expect(parseRating('')).toBe('empty rating');
    expect(parseRating('  ')).toBe('empty rating');
    expect(parseRating('good')).toMatch(/not a number/);
    expect(parseRating('NaN')).toMatch(/not a number/);
    expect(parseRating('Infinity')).toMatch(/not finite/);
    // Finite as a double but beyond float32's range (max ≈ 3.4e38).
    expect(parseRating('1e39')).toMatch(/not finite/);
    // Number() reads these as 16, 1 and 7: not how a rating is written.
    for (const s of ['0x10', '0b1', '0o7']) expect(parseRating(s), s).toMatch(/not a decimal number/);
    expect(parseRating(' 4.5 ')).toBe(4.5);
    expect(parseRating('2E1')).toBe(20);
  });
});

describe('parseTimestamp', () => {
  it('reads unix seconds as numbers', () => {
    expect(parseTimestamp('881250949')).toBe(881250949);
    expect(parseTimestamp('1.5')).toBe(1.5);
    expect(parseTimestamp('99999999999')).toBe(99999999999);
  });

  it('reads numbers too large for seconds as ms, µs or ns', () => {
    // 2023-11-14T22:13:20Z, in each unit.
    expect(parseTimestamp('1700000000000')).toBe(1.7e9);
    expect(parseTimestamp('1700000000123')).toBeCloseTo(1700000000.123, 6);
    expect(parseTimestamp('1700000000000000')).toBe(1.7e9);
    expect(parseTimestamp('1700000000000000000')).toBe(1.7e9);
    expect(parseTimestamp('100000000000')).toBe(1e8);
  });

  it('reads ISO-8601 dates and date-times as UTC seconds', () => {
    // 1e9 seconds after the epoch is 2001-09-09T01:46:40Z.
    expect(parseTimestamp('2001-09-09T01:46:40Z')).toBe(1e9);
    expect(parseTimestamp('2001-09-09T01:46:40')).toBe(1e9);
    expect(parseTimestamp('2001-09-09 01:46:40')).toBe(1e9);
    expect(parseTimestamp('2001-09-09T01:46:40.250Z')).toBe(1e9 + 0.25);
    // 03:46:40 at +02:00 is 01:46:40 UTC; 20:16:40 at -05:30 is 01:46:40 UTC next day.
    expect(parseTimestamp('2001-09-09T03:46:40+02:00')).toBe(1e9);
    expect(parseTimestamp('2001-09-08T20:16:40-0530')).toBe(1e9);
    expect(parseTimestamp('1970-01-02')).toBe(86400);
    expect(parseTimestamp('1970-01-01T00:01')).toBe(60);
  });

  it('rejects blanks, garbage and impossible dates', () => {
    expect(parseTimestamp('')).toBe('empty timestamp');
    expect(parseTimestamp('yesterday')).toMatch(/bad timestamp "yesterday"/);
    expect(parseTimestamp('2001-02-30')).toMatch(/no such date/);
    expect(parseTimestamp('2001-13-01')).toMatch(/no such date/);
    expect(parseTimestamp('2001-01-01T24:00:00Z')).toMatch(/no such date/);
    expect(parseTimestamp('01/02/2003')).toMatch(/bad timestamp/);
  });
});
