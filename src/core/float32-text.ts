/**
 * @module Decimal text of float32 values (scores) with 9 significant digits, trailing zeros dropped.
 * Every score rtrec computes is a float32; printed as JavaScript prints the widened double it shows
 * 17 digits the model never had (0.8234567046165466), where 9 always identify the float32 exactly
 * (0.823456705; IEEE 754 needs at most 9 for binary32). Parsing the text and rounding to float32
 * (`Math.fround`, numpy's `float32`) gives back the same value. It is also cheaper on the serving
 * path: no double-to-shortest search and no entry in V8's number-string cache per score (about
 * 1 µs per k=10 answer rendered, measured with the serving benchmark's load).
 */

const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);
/** '000' … '999': the digits of an integer below 10^9 in three lookups, without Number → string. */
const THREE_DIGITS = Array.from({ length: 1_000 }, (_, j) => String(j).padStart(3, '0'));
const ZEROS = Array.from({ length: 10 }, (_, j) => '0'.repeat(j));

/**
 * The text of `x` (a float32 value: a Float32Array element, or Math.fround of a number) as a JSON
 * number: 9 significant digits, no exponent, trailing zeros removed (`0.5`, `12`, `0.000123456791`).
 * Values below 10^-6 or from 10^9 in magnitude are written as String(x), which is exact too. Only
 * finite values: the caller decides what NaN and infinities become (JSON has no text for them).
 */
export function float32Text(x: number): string {
  const a = x < 0 ? -x : x;
  if (!(a >= 1e-6 && a < 1e9)) return x === 0 ? '0' : String(x);
  // a = m × 10^(e-8) with m of 9 digits; log10 can be one off at powers of ten: corrected below.
  let e = Math.floor(Math.log10(a));
  let m = scaleRound(a, 8 - e);
  if (m >= 1e9) m = scaleRound(a, 8 - ++e);
  else if (m < 1e8) m = scaleRound(a, 8 - --e);
  const hi = Math.floor(m / 1e6);
  const rest = m - hi * 1e6;
  const mid = Math.floor(rest / 1e3);
  const digits = THREE_DIGITS[hi] + THREE_DIGITS[mid] + THREE_DIGITS[rest - mid * 1e3];
  let end = 9;
  while (end > 1 && digits.charCodeAt(end - 1) === 48) end--;
  // The value is 0.<digits> × 10^(e+1).
  let text: string;
  if (e < 0) text = '0.' + ZEROS[-e - 1] + digits.slice(0, end);
  else if (e + 1 >= end) text = digits.slice(0, end) + ZEROS[e + 1 - end];
  else text = digits.slice(0, e + 1) + '.' + digits.slice(e + 1, end);
  return x < 0 ? '-' + text : text;
}

/**
 * round(a × 10^k). One multiplication or division by an exact power of ten, so the product is
 * within half an ulp of the true value and the rounded integer within 0.5 + 10^-7 of it: far
 * closer to `a` than half the gap between neighbouring float32 values (2^-25 relative), which is
 * why 9 digits computed this way always read back as the same float32.
 */
function scaleRound(a: number, k: number): number {
  return Math.round(k >= 0 ? a * POW10[k] : a / POW10[-k]);
}
