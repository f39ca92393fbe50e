/**
 * @module Loads one interaction file (generic CSV/TSV/JSONL with named columns, or a MovieLens rating
 * file) into Interactions, streaming it row by row and rejecting bad rows with `file:line: reason`.
 */
import { RecError } from '../core/errors.js';
import type { IdMap } from '../core/ids.js';
import { forEachRecord } from './csv.js';
import { formatFromExtension } from './detect-format.js';
import { badRow, detachString, isBlank, parseRating, parseTimestamp } from './field-parsers.js';
import { InteractionsBuilder, type Interactions } from './interactions.js';
import { forEachLine, type LineReaderOptions } from './line-reader.js';
import { COLUMN_ALIASES, findColumn, type LoadOptions } from './load-options.js';

interface Layout {
  delimiter: string;
  quoted: boolean;
  /** Column names of a header-less file; null when the first record is the header. */
  fixedHeader: readonly string[] | null;
  encoding: 'utf-8' | 'latin-1';
}

const MOVIELENS_COLUMNS = ['userId', 'itemId', 'rating', 'timestamp'] as const;

/**
 * Loads one interaction file.
 * @param path a .csv/.tsv/.jsonl file with named columns, or a MovieLens rating file (u.data-style
 *   tab-separated or ratings.dat-style `::`-separated, no header).
 * @returns rows in file order; ratings null when the file has no rating column (implicit feedback),
 *   timestamps in unix seconds or null when absent.
 * @throws RTREC_ERR_DATA_NOT_FOUND, RTREC_ERR_DATA_EMPTY, RTREC_ERR_DATA_BAD_ROW, RTREC_ERR_DATA_UNKNOWN_FORMAT.
 */
export async function loadInteractionsFile(path: string, options: LoadOptions = {}): Promise<Interactions> {
  const format = options.format ?? formatFromExtension(path);
  const encoding = options.encoding ?? 'utf-8';
  switch (format) {
    case 'jsonl':
      return loadJsonl(path, options);
    case 'csv':
    case 'movielens-csv':
      return loadDelimited(path, { delimiter: ',', quoted: true, fixedHeader: null, encoding }, options);
    case 'tsv':
      return loadDelimited(path, { delimiter: '\t', quoted: false, fixedHeader: null, encoding }, options);
    case 'movielens-100k':
      return loadDelimited(path, { delimiter: '\t', quoted: false, fixedHeader: MOVIELENS_COLUMNS, encoding: 'latin-1' }, options);
    case 'movielens-dat':
      return loadDelimited(path, { delimiter: '::', quoted: false, fixedHeader: MOVIELENS_COLUMNS, encoding: 'latin-1' }, options);
    default:
      return assertNever(format);
  }
}

function lineOptions(path: string, encoding: 'utf-8' | 'latin-1', options: LoadOptions): LineReaderOptions {
  const onProgress = options.onProgress;
  return {
    encoding,
    onBytes: onProgress === undefined ? undefined : (bytesRead, totalBytes) => onProgress({ file: path, bytesRead, totalBytes }),
  };
}

/**
 * Appends rows to a builder. Copies only ids seen for the first time (see detachString), and skips
 * the user lookup when the user repeats the previous row's, which is the common case in files
 * sorted by user (MovieLens 20M and later).
 */
class RowAppender {
  readonly #builder: InteractionsBuilder;
  readonly #users: IdMap;
  readonly #items: IdMap;
  #lastUser = '';
  #lastUserIdx = -1;

  constructor(builder: InteractionsBuilder) {
    this.#builder = builder;
    this.#users = builder.users;
    this.#items = builder.items;
  }

  get length(): number {
    return this.#builder.length;
  }

  add(user: string, item: string, rating: number, timestamp: number): void {
    let u = this.#lastUserIdx;
    if (u < 0 || user !== this.#lastUser) {
      u = this.#users.indexOf(user);
      if (u < 0) u = this.#users.getOrAdd(detachString(user));
      this.#lastUser = this.#users.idOf(u);
      this.#lastUserIdx = u;
    }
    let i = this.#items.indexOf(item);
    if (i < 0) i = this.#items.getOrAdd(detachString(item));
    this.#builder.addIndexed(u, i, rating, timestamp);
  }

  build(): Interactions {
    return this.#builder.build();
  }
}

async function loadDelimited(path: string, layout: Layout, options: LoadOptions): Promise<Interactions> {
  let builder: RowAppender | null = null;
  let header: readonly string[] = [];
  let width = 0;
  let uc = -1;
  let ic = -1;
  let rc = -1;
  let tc = -1;

  const useHeader = (names: readonly string[], lineNo: number | undefined) => {
    header = names;
    width = names.length;
    if (layout.fixedHeader !== null) {
      [uc, ic, rc, tc] = [0, 1, 2, 3];
    } else {
      uc = requireColumn(path, lineNo, names, options.userCol, COLUMN_ALIASES.user, 'user');
      ic = requireColumn(path, lineNo, names, options.itemCol, COLUMN_ALIASES.item, 'item');
      rc = optionalColumn(path, lineNo, names, options.ratingCol, COLUMN_ALIASES.rating, 'rating');
      tc = optionalColumn(path, lineNo, names, options.timestampCol, COLUMN_ALIASES.timestamp, 'timestamp');
    }
    builder = new RowAppender(new InteractionsBuilder({ hasRating: rc >= 0, hasTimestamp: tc >= 0, users: options.users, items: options.items }));
  };
  if (layout.fixedHeader !== null) useHeader(layout.fixedHeader, undefined);

  const records = await forEachRecord(
    path,
    (f, lineNo) => {
      if (builder === null) {
        useHeader([...f], lineNo);
        return;
      }
      if (f.length !== width) throw badRow(path, lineNo, `expected ${width} columns, found ${f.length}`);
      const user = f[uc];
      if (isBlank(user)) throw badRow(path, lineNo, `empty ${header[uc]}`);
      const item = f[ic];
      if (isBlank(item)) throw badRow(path, lineNo, `empty ${header[ic]}`);
      let rating = 1;
      if (rc >= 0) {
        const r = parseRating(f[rc]);
        if (typeof r === 'string') throw badRow(path, lineNo, r);
        rating = r;
      }
      let timestamp = 0;
      if (tc >= 0) {
        const t = parseTimestamp(f[tc]);
        if (typeof t === 'string') throw badRow(path, lineNo, t);
        timestamp = t;
      }
      builder.add(user, item, rating, timestamp);
    },
    { delimiter: layout.delimiter, quoted: layout.quoted, ...lineOptions(path, layout.encoding, options) },
  );
  return finish(path, builder, records > 0);
}

function requireColumn(path: string, lineNo: number | undefined, header: readonly string[], explicit: string | undefined, aliases: readonly string[], what: string): number {
  const idx = findColumn(header, explicit, aliases);
  if (idx === -1) throw badRow(path, lineNo, `${missingColumnText(explicit, aliases, what)} in header ${JSON.stringify(header.join(','))}`);
  return idx;
}

function optionalColumn(path: string, lineNo: number | undefined, header: readonly string[], explicit: string | undefined, aliases: readonly string[], what: string): number {
  const idx = findColumn(header, explicit, aliases);
  if (idx === -1 && explicit !== undefined) {
    throw badRow(path, lineNo, `${missingColumnText(explicit, aliases, what)} in header ${JSON.stringify(header.join(','))}`);
  }
  return idx;
}

function missingColumnText(explicit: string | undefined, aliases: readonly string[], what: string): string {
  return explicit !== undefined ? `no ${what} column ${JSON.stringify(explicit)}` : `no ${what} column (looked for ${aliases.join(', ')})`;
}

function finish(path: string, builder: RowAppender | null, sawHeaderOrRows: boolean): Interactions {
  if (builder === null || !sawHeaderOrRows) throw new RecError('RTREC_ERR_DATA_EMPTY', `${path}: file holds no rows`, { details: { file: path } });
  if (builder.length === 0) throw new RecError('RTREC_ERR_DATA_EMPTY', `${path}: file has a header but no rows`, { details: { file: path } });
  return builder.build();
}

/** Key of a JSON object field: the explicit name, else the first alias present in the first record (any case). */
function jsonKey(first: Record<string, unknown>, explicit: string | undefined, aliases: readonly string[]): string | undefined {
  const keys = Object.keys(first);
  const idx = findColumn(keys, explicit, aliases);
  return idx === -1 ? undefined : keys[idx];
}

async function loadJsonl(path: string, options: LoadOptions): Promise<Interactions> {
  let builder: RowAppender | null = null;
  let userKey = '';
  let itemKey = '';
  let ratingKey: string | undefined;
  let timeKey: string | undefined;

  await forEachLine(
    path,
    (line, lineNo) => {
      if (isBlank(line)) return;
      const row = parseJsonObject(path, lineNo, line);
      if (builder === null) {
        const u = jsonKey(row, options.userCol, COLUMN_ALIASES.user);
        const i = jsonKey(row, options.itemCol, COLUMN_ALIASES.item);
        ratingKey = jsonKey(row, options.ratingCol, COLUMN_ALIASES.rating);
        timeKey = jsonKey(row, options.timestampCol, COLUMN_ALIASES.timestamp);
        const keys = JSON.stringify(Object.keys(row).join(','));
        if (u === undefined) throw badRow(path, lineNo, `${missingColumnText(options.userCol, COLUMN_ALIASES.user, 'user')} in keys ${keys}`);
        if (i === undefined) throw badRow(path, lineNo, `${missingColumnText(options.itemCol, COLUMN_ALIASES.item, 'item')} in keys ${keys}`);
        if (ratingKey === undefined && options.ratingCol !== undefined) throw badRow(path, lineNo, `${missingColumnText(options.ratingCol, [], 'rating')} in keys ${keys}`);
        if (timeKey === undefined && options.timestampCol !== undefined) throw badRow(path, lineNo, `${missingColumnText(options.timestampCol, [], 'timestamp')} in keys ${keys}`);
        [userKey, itemKey] = [u, i];
        builder = new RowAppender(new InteractionsBuilder({ hasRating: ratingKey !== undefined, hasTimestamp: timeKey !== undefined, users: options.users, items: options.items }));
      }
      const user = jsonId(path, lineNo, row, userKey);
      const item = jsonId(path, lineNo, row, itemKey);
      const rating = ratingKey === undefined ? 1 : jsonNumber(path, lineNo, row, ratingKey, parseRating);
      const timestamp = timeKey === undefined ? 0 : jsonNumber(path, lineNo, row, timeKey, parseTimestamp);
      builder.add(user, item, rating, timestamp);
    },
    lineOptions(path, options.encoding ?? 'utf-8', options),
  );
  return finish(path, builder, builder !== null);
}

function parseJsonObject(path: string, lineNo: number, line: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    throw badRow(path, lineNo, `invalid JSON (${(err as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badRow(path, lineNo, 'expected a JSON object');
  return value as Record<string, unknown>;
}

function jsonId(path: string, lineNo: number, row: Record<string, unknown>, key: string): string {
  const v = row[key];
  if (typeof v === 'string') {
    if (isBlank(v)) throw badRow(path, lineNo, `empty ${key}`);
    return v;
  }
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (v === undefined || v === null) throw badRow(path, lineNo, `missing ${key}`);
  throw badRow(path, lineNo, `${key} must be a string or number, got ${JSON.stringify(v)}`);
}

function jsonNumber(path: string, lineNo: number, row: Record<string, unknown>, key: string, parse: (s: string) => number | string): number {
  const v = row[key];
  if (v === undefined || v === null) throw badRow(path, lineNo, `missing ${key}`);
  if (typeof v !== 'number' && typeof v !== 'string') throw badRow(path, lineNo, `${key} must be a number or string, got ${JSON.stringify(v)}`);
  const parsed = parse(String(v));
  if (typeof parsed === 'string') throw badRow(path, lineNo, parsed);
  return parsed;
}

function assertNever(x: never): never {
  throw new RecError('RTREC_ERR_DATA_UNKNOWN_FORMAT', `unknown format ${JSON.stringify(x)}`);
}

