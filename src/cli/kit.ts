/**
 * @module Shared plumbing for CLI commands: option parsing helpers that fail with clear
 * RTREC_ERR_CONFIG_INVALID errors, table and JSON output.
 */
import { RecError } from '../core/errors.js';

/** Parses an integer flag value within [min, max]; commander passes strings. */
export function parseIntOption(flag: string, min = -Infinity, max = Infinity): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new RecError('RTREC_ERR_CONFIG_INVALID', `${flag} must be a whole number${rangeText(min, max)}, got ${JSON.stringify(value)}`);
    }
    return n;
  };
}

/** Parses a number flag value within [min, max]. */
export function parseNumberOption(flag: string, min = -Infinity, max = Infinity): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
      throw new RecError('RTREC_ERR_CONFIG_INVALID', `${flag} must be a number${rangeText(min, max)}, got ${JSON.stringify(value)}`);
    }
    return n;
  };
}

/** Parses one of a fixed set of words. */
export function parseChoice<T extends string>(flag: string, choices: readonly T[]): (value: string) => T {
  return (value) => {
    if (!(choices as readonly string[]).includes(value)) {
      throw new RecError('RTREC_ERR_CONFIG_INVALID', `${flag} must be one of ${choices.join(', ')}; got ${JSON.stringify(value)}`);
    }
    return value as T;
  };
}

function rangeText(min: number, max: number): string {
  if (Number.isFinite(min) && Number.isFinite(max)) return ` from ${min} to ${max}`;
  if (Number.isFinite(min)) return ` >= ${min}`;
  if (Number.isFinite(max)) return ` <= ${max}`;
  return '';
}

/** Renders rows as an aligned plain-text table (numbers right-aligned). */
export function formatTable(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = rows.map((row) => row.map((cell) => (typeof cell === 'number' ? formatNumber(cell) : cell)));
  const widths = headers.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c]?.length ?? 0)));
  const numeric = headers.map((_, c) => rows.length > 0 && rows.every((row) => typeof row[c] === 'number'));
  const line = (row: readonly string[]) =>
    row.map((cell, c) => (numeric[c] ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

export function formatNumber(n: number): string {
  if (Number.isInteger(n)) return String(n);
  if (Math.abs(n) >= 1000) return n.toFixed(1);
  return n.toFixed(4);
}

/** Writes a result: pretty JSON on stdout when `json`, else the text. */
export function emit(json: boolean, value: unknown, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);
}
