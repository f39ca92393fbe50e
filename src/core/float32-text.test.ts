import { describe, expect, it } from 'vitest';
import { float32Text } from './float32-text.js';
import { createRng } from './rng.js';

/** Significant digits of a plain decimal text (no exponent). */
function significantDigits(text: string): number {
  return text.replace(/^-/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '').length;
}

describe('float32Text', () => {
  it('writes exact, short text for common values', () => {
    const cases: [number, string][] = [
      [0, '0'],
      [-0, '0'],
      [1, '1'],
      [0.5, '0.5'],
      [-2.5, '-2.5'],
      [10, '10'],
      [1234.5, '1234.5'],
      [583, '583'],
      [0.8234567046165466, '0.823456705'],
      [0.1, '0.100000001'],
      [4.999999, '4.99999905'],
      [9.9999999, '10'],
      [123456789, '123456792'],
      [3.4e-6, '0.00000339999997'],
    ];
    for (const [value, text] of cases) expect(float32Text(Math.fround(value)), String(value)).toBe(text);
  });

  it('reads back as the same float32 for random values of every magnitude and sign', () => {
    const rng = createRng(7);
    const scratch = new Float32Array(1);
    for (let j = 0; j < 200_000; j++) {
      // Random bits cover every exponent; uniform values cover the usual score ranges densely.
      scratch[0] = j % 2 === 0 ? (rng.next() - 0.2) * 10 : (rng.next() < 0.5 ? -1 : 1) * 10 ** (rng.next() * 24 - 12) * (1 + rng.next());
      const x = scratch[0];
      const text = float32Text(x);
      const back = Math.fround(JSON.parse(text) as number);
      if (back !== x) expect.fail(`${x} was written as ${text}, which reads back as ${back}`);
      if (Math.abs(x) >= 1e-6 && Math.abs(x) < 1e9) {
        if (!/^-?\d+(\.\d+)?$/.test(text) || significantDigits(text) > 9) expect.fail(`${x} was written as ${text}: expected at most 9 digits, no exponent`);
      }
    }
  });

  it('is exact at the edges of the plain range and at powers of ten and two', () => {
    const edges = [1e-6, 9.99999e-7, 1e9, 999999936, 2 ** -20, 2 ** 29, 2 ** 30, 3.4028234663852886e38, 1.401298464324817e-45];
    for (let p = -6; p <= 8; p++) edges.push(10 ** p, 10 ** p * (1 - 1e-7), 10 ** p * (1 + 1e-7));
    for (let p = -19; p <= 29; p++) edges.push(2 ** p, -(2 ** p));
    for (const value of edges) {
      const x = Math.fround(value);
      expect(Math.fround(JSON.parse(float32Text(x)) as number), `${x} → ${float32Text(x)}`).toBe(x);
    }
  });
});
