/**
 * @module Parsing and checking single fields of interaction rows (ids, ratings, timestamps), and the
 * `file:line: reason` errors every loader raises for a bad row.
 */
import { atLocation, RecError } from '../core/errors.js';

/** A RTREC_ERR_DATA_BAD_ROW error located at `file:line`. */
export function badRow(file: string, line: number | undefined, reason: string): RecError {
  return new RecError('RTREC_ERR_DATA_BAD_ROW', atLocation(file, line, reason), { details: { file, line } });
}

/** True for '' and whitespace-only strings (cheap for the usual non-blank case). */
export function isBlank(s: string): boolean {
  return s.length === 0 || (s.charCodeAt(0) <= 32 && s.trim().length === 0);
}

/**
 * A finite rating that also fits a float32 (ratings are stored as float32).
 * @returns the rating, or a reason string when unusable.
 */
export function parseRating(s: string): number | string {
  if (isBlank(s)) return 'empty rating';
  const r = Number(s);
  if (Number.isNaN(r)) return `rating ${JSON.stringify(s)} is not a number`;
  if (!Number.isFinite(Math.fround(r))) return `rating ${JSON.stringify(s)} is not finite`;
  if (hasRadixPrefix(s)) return `rating ${JSON.stringify(s)} is not a decimal number`;
  return r;
}

/** True for 0x…, 0b…, 0o… (which Number() reads in another base): a letter other than e/E. */
function hasRadixPrefix(s: string): boolean {
  for (let j = 0; j < s.length; j++) {
    const c = s.charCodeAt(j) | 0x20;
    if (c === 0x78 || c === 0x62 || c === 0x6f) return true; // x, b, o in either case
  }
  return false;
}

// YYYY-MM-DD, optionally followed by T or space, hh:mm[:ss[.fff]], and Z or ±hh[:mm].
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/**
 * Numbers from which a numeric timestamp is read in a finer unit than seconds: as seconds, 10^11 is
 * the year 5138, so a number that large is a time in ms (common in event logs and exports), 10^14
 * one in µs, 10^17 one in ns. Without this, a file in ms read as seconds lands 50,000 years ahead,
 * and combined with exported events (seconds) its rows would always count as the latest.
 */
const FINER_UNITS: readonly (readonly [from: number, perSecond: number])[] = [
  [1e17, 1e9],
  [1e14, 1e6],
  [1e11, 1e3],
];

/**
 * A timestamp in unix seconds from either a number or an ISO-8601 date/date-time. A number is
 * seconds, or ms / µs / ns when it is too large for seconds (see FINER_UNITS). Date-times without a
 * zone are read as UTC so results do not depend on the machine's time zone.
 * @returns seconds (fractional when the source has sub-second precision), or a reason string.
 */
export function parseTimestamp(s: string): number | string {
  if (isBlank(s)) return 'empty timestamp';
  const n = Number(s);
  if (Number.isFinite(n)) {
    for (const [from, perSecond] of FINER_UNITS) if (Math.abs(n) >= from) return n / perSecond;
    return n;
  }
  const m = ISO_8601.exec(s.trim());
  if (m === null) return `bad timestamp ${JSON.stringify(s)} (expected unix seconds or ISO-8601)`;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((x) => (x === undefined ? 0 : Number(x)));
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const date = new Date(ms);
  if (month < 1 || month > 12 || date.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) {
    return `bad timestamp ${JSON.stringify(s)} (no such date or time)`;
  }
  const fraction = m[7] === undefined ? 0 : Number(`0${m[7]}`);
  return ms / 1000 + fraction - zoneOffsetSeconds(m[8]);
}

function zoneOffsetSeconds(zone: string | undefined): number {
  if (zone === undefined || zone === 'Z' || zone === 'z') return 0;
  const sign = zone[0] === '-' ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2)) : 0;
  return sign * (hours * 3600 + minutes * 60);
}

/**
 * A copy of `s` that does not keep a larger string alive. V8 may represent a substring as a view of
 * its parent, so an id sliced from a 1 MiB read chunk and kept as a map key would pin the chunk.
 */
export function detachString(s: string): string {
  return s.length < 13 ? s : (s + ' ').slice(0, -1);
}
