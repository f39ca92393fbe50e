/**
 * @module Delimited-text records (RFC 4180 CSV and plain separated values): a field splitter that
 * handles quoted fields with delimiters, doubled quotes and line breaks, a field quoter for writing,
 * and a streaming record reader built on the line reader.
 */
import { atLocation, RecError } from '../core/errors.js';
import { forEachLine, type LineReaderOptions } from './line-reader.js';

/** Longest record (in characters) accepted while looking for a closing quote; guards against a stray quote swallowing the file. */
const MAX_RECORD_CHARS = 1 << 20;

/** A malformed quoted field; the caller adds file and line. */
export class CsvSyntaxError extends Error {
  override readonly name = 'CsvSyntaxError';
  /** True when the record ended inside a quoted field (it may continue on the next line). */
  readonly unterminated: boolean;

  constructor(message: string, unterminated = false) {
    super(message);
    this.unterminated = unterminated;
  }
}

/**
 * Splits one record into fields. Without a `"` in the record this is a plain split (the fast path);
 * otherwise RFC 4180 rules apply: a field starting with `"` runs to the matching `"`, `""` inside it
 * is one quote, and the delimiter or a line break inside it is data. A quote inside an unquoted field
 * is kept as a literal character (common in real files, e.g. `12" single`).
 * @param delimiter one or more characters, e.g. `,`, `\t` or `::`.
 * @param out array to fill and return (reused across records by the streaming reader to avoid
 *   allocating one per row); a fresh array by default.
 * @throws CsvSyntaxError on an unterminated quoted field or text after a closing quote.
 */
export function splitCsvLine(record: string, delimiter = ',', out: string[] = []): string[] {
  if (record.indexOf('"') === -1) return splitPlain(record, delimiter, out);
  const n = record.length;
  const dl = delimiter.length;
  let k = 0;
  let i = 0;
  for (;;) {
    if (record.charCodeAt(i) === 34 /* " */) {
      let value = '';
      let from = i + 1;
      for (;;) {
        const q = record.indexOf('"', from);
        if (q === -1) throw new CsvSyntaxError('unterminated quoted field', true);
        value += record.slice(from, q);
        if (record.charCodeAt(q + 1) === 34) {
          value += '"';
          from = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      out[k++] = value;
      if (i === n) break;
      if (!record.startsWith(delimiter, i)) {
        throw new CsvSyntaxError(`unexpected ${JSON.stringify(record[i])} after a closing quote (column ${k})`);
      }
      i += dl;
    } else {
      const d = record.indexOf(delimiter, i);
      if (d === -1) {
        out[k++] = record.slice(i);
        break;
      }
      out[k++] = record.slice(i, d);
      i = d + dl;
    }
    if (i === n) {
      out[k++] = '';
      break;
    }
  }
  if (out.length !== k) out.length = k;
  return out;
}

/**
 * Splits on every `delimiter` (no quoting) into `out`. Measured about 3× faster than
 * String.prototype.split on line slices, and `out` is reused across rows.
 */
export function splitPlain(record: string, delimiter: string, out: string[] = []): string[] {
  const dl = delimiter.length;
  let k = 0;
  let start = 0;
  for (let d = record.indexOf(delimiter); d !== -1; d = record.indexOf(delimiter, start)) {
    out[k++] = record.slice(start, d);
    start = d + dl;
  }
  out[k++] = start === 0 ? record : record.slice(start);
  // Truncating only when the width changes keeps the common fixed-width case cheap.
  if (out.length !== k) out.length = k;
  return out;
}

/** Quotes a field for CSV output when it holds the delimiter, a quote or a line break; otherwise returns it unchanged. */
export function quoteCsvField(value: string, delimiter = ','): string {
  if (value.indexOf('"') === -1 && value.indexOf(delimiter) === -1 && value.indexOf('\n') === -1 && value.indexOf('\r') === -1) {
    return value;
  }
  return `"${value.replaceAll('"', '""')}"`;
}

export interface RecordReaderOptions extends LineReaderOptions {
  /** Field delimiter; default `,`. */
  delimiter?: string;
  /** Honour RFC 4180 quotes (records may then span lines); default true. False for TSV and MovieLens files. */
  quoted?: boolean;
}

/**
 * Calls `onRecord(fields, lineNo)` for every non-blank record of `path`; `lineNo` is the 1-based line
 * the record starts on. Blank lines outside quotes are skipped. `fields` is one array reused for every
 * record: read it inside the callback, copy it to keep it.
 * @returns the number of records.
 * @throws RTREC_ERR_DATA_NOT_FOUND when the file cannot be read; RTREC_ERR_DATA_BAD_ROW on malformed quoting.
 */
export async function forEachRecord(
  path: string,
  onRecord: (fields: string[], lineNo: number) => void,
  options: RecordReaderOptions = {},
): Promise<number> {
  const delimiter = options.delimiter ?? ',';
  const quoted = options.quoted ?? true;
  let records = 0;
  let pending: string | null = null;
  let pendingLine = 0;
  const fields: string[] = [];

  // Returns false when the record ends inside a quoted field and so continues on the next line.
  const tryEmit = (record: string, lineNo: number): boolean => {
    if (!quoted) {
      splitPlain(record, delimiter, fields);
    } else {
      try {
        splitCsvLine(record, delimiter, fields);
      } catch (err) {
        if (!(err instanceof CsvSyntaxError)) throw err;
        if (err.unterminated && record.length <= MAX_RECORD_CHARS) return false;
        throw badRecord(path, lineNo, err.message);
      }
    }
    records++;
    onRecord(fields, lineNo);
    return true;
  };

  await forEachLine(
    path,
    (line, lineNo) => {
      if (pending !== null) {
        const record: string = `${pending}\n${line}`;
        // The pending record ends inside quotes (an odd number of "): a line with an even number
        // leaves it there, so it is not parsed again. Parsing on every line made one stray quote
        // in a large file cost a re-parse of up to MAX_RECORD_CHARS per line (tens of seconds).
        if (quoteCount(line) % 2 === 0) {
          if (record.length > MAX_RECORD_CHARS) throw badRecord(path, pendingLine, 'unterminated quoted field');
          pending = record;
          return;
        }
        pending = tryEmit(record, pendingLine) ? null : record;
        return;
      }
      if (line.length === 0 || (line.charCodeAt(0) <= 32 && line.trim() === '')) return;
      if (!tryEmit(line, lineNo)) {
        pending = line;
        pendingLine = lineNo;
      }
    },
    options,
  );
  if (pending !== null) throw badRecord(path, pendingLine, 'unterminated quoted field');
  return records;
}

function quoteCount(line: string): number {
  let n = 0;
  for (let at = line.indexOf('"'); at >= 0; at = line.indexOf('"', at + 1)) n++;
  return n;
}

function badRecord(path: string, line: number, reason: string): RecError {
  return new RecError('RTREC_ERR_DATA_BAD_ROW', atLocation(path, line, reason), { details: { file: path, line } });
}
