/**
 * @module Loads a generic item metadata file: CSV (RFC 4180 quoting) or TSV with a header, one id
 * column and any other columns; list-like columns (genres, categories, tags) are split on `|`.
 */
import { RecError } from '../core/errors.js';
import { forEachRecord } from './csv.js';
import { badRow, isBlank } from './field-parsers.js';
import type { ItemMetadata } from './interactions.js';
import type { TextEncodingName } from './line-reader.js';
import { COLUMN_ALIASES, findColumn, type LoadProgress } from './load-options.js';

/** Column names (any case) whose values are `|`-separated lists. */
export const LIST_COLUMNS: ReadonlySet<string> = new Set(['genres', 'genre', 'categories', 'category', 'tags']);

export interface ItemMetadataOptions {
  /** Exact name of the id column; default the first of `preferredIdCols` or an item-id alias present, else the first column. */
  idCol?: string;
  /** Names tried (exactly) before the aliases, e.g. the interaction file's item column. */
  preferredIdCols?: readonly string[];
  /** Default utf-8. */
  encoding?: TextEncodingName;
  /** List values meaning "no entries", e.g. MovieLens's `(no genres listed)`. */
  emptyListMarkers?: readonly string[];
  onProgress?: (progress: LoadProgress) => void;
}

/**
 * Reads item metadata keyed by the original item id string.
 * @returns fields = all column names except the id, in file order; list columns as string[].
 * @throws RTREC_ERR_DATA_NOT_FOUND, RTREC_ERR_DATA_EMPTY, RTREC_ERR_DATA_BAD_ROW (wrong column count,
 *   empty or duplicate id, missing id column).
 */
export async function loadItemMetadataFile(path: string, options: ItemMetadataOptions = {}): Promise<ItemMetadata> {
  const tsv = /\.(tsv|tab)$/i.test(path);
  const markers = new Set(options.emptyListMarkers ?? []);
  const byId = new Map<string, Readonly<Record<string, string | string[]>>>();
  const firstLine = new Map<string, number>();
  let header: string[] | null = null;
  let idCol = -1;
  let isList: boolean[] = [];
  const onProgress = options.onProgress;

  await forEachRecord(
    path,
    (f, lineNo) => {
      if (header === null) {
        header = f.map((name) => name.trim());
        idCol = resolveIdColumn(path, lineNo, header, options);
        isList = header.map((name) => LIST_COLUMNS.has(name.toLowerCase()));
        return;
      }
      if (f.length !== header.length) throw badRow(path, lineNo, `expected ${header.length} columns, found ${f.length}`);
      const id = f[idCol];
      if (isBlank(id)) throw badRow(path, lineNo, `empty ${header[idCol]}`);
      const seen = firstLine.get(id);
      if (seen !== undefined) throw badRow(path, lineNo, `duplicate item id ${JSON.stringify(id)} (first on line ${seen})`);
      firstLine.set(id, lineNo);
      const record: Record<string, string | string[]> = {};
      for (let c = 0; c < f.length; c++) {
        if (c === idCol) continue;
        record[header[c]] = isList[c] ? splitList(f[c], markers) : f[c];
      }
      byId.set(id, record);
    },
    {
      delimiter: tsv ? '\t' : ',',
      quoted: !tsv,
      encoding: options.encoding ?? 'utf-8',
      onBytes: onProgress === undefined ? undefined : (bytesRead, totalBytes) => onProgress({ file: path, bytesRead, totalBytes }),
    },
  );
  // The callback assigned it; a cast because control-flow analysis cannot see that.
  const names = header as string[] | null;
  if (names === null || byId.size === 0) {
    throw new RecError('RTREC_ERR_DATA_EMPTY', `${path}: item file holds no rows`, { details: { file: path } });
  }
  return { fields: names.filter((_, c) => c !== idCol), byId };
}

/** Splits a `|`-separated list; blank values and the given markers mean an empty list. */
export function splitList(value: string, emptyMarkers: ReadonlySet<string> = new Set()): string[] {
  if (isBlank(value) || emptyMarkers.has(value)) return [];
  return value.split('|');
}

function resolveIdColumn(path: string, lineNo: number, header: readonly string[], options: ItemMetadataOptions): number {
  if (options.idCol !== undefined) {
    const idx = header.indexOf(options.idCol);
    if (idx === -1) throw badRow(path, lineNo, `no item id column ${JSON.stringify(options.idCol)} in header ${JSON.stringify(header.join(','))}`);
    return idx;
  }
  for (const name of options.preferredIdCols ?? []) {
    const idx = header.indexOf(name);
    if (idx !== -1) return idx;
  }
  const idx = findColumn(header, undefined, [...COLUMN_ALIASES.item, 'id']);
  return idx === -1 ? 0 : idx;
}
