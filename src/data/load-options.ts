/**
 * @module Options shared by every loader (format, column names, encoding, shared id maps, progress)
 * and the list of formats rtrec reads, with the column-name aliases tried when no name is given.
 */
import type { IdMap } from '../core/ids.js';
import type { TextEncodingName } from './line-reader.js';

/**
 * - `movielens-100k`: folder with `u.data` (+ `u.item`, `u.genre`), or a tab-separated file without header (`u.data`, `u1.base`).
 * - `movielens-dat`: MovieLens 1M/10M folder with `ratings.dat` (+ `movies.dat`), or a `::`-separated file.
 * - `movielens-csv`: MovieLens 20M/25M/32M/latest folder with `ratings.csv` (+ `movies.csv`).
 * - `csv`, `tsv`, `jsonl`: a generic interaction file (header row required for csv/tsv).
 */
export const DATA_FORMATS = ['movielens-100k', 'movielens-dat', 'movielens-csv', 'csv', 'tsv', 'jsonl'] as const;
export type DataFormat = (typeof DATA_FORMATS)[number];

/** Progress of reading one file, in bytes. */
export interface LoadProgress {
  file: string;
  bytesRead: number;
  totalBytes: number;
}

export interface LoadOptions {
  /** Skip detection and read as this format. */
  format?: DataFormat;
  /** Column (csv/tsv header name or jsonl key) holding the user id; default: first of userId, user_id, user, userID, uid (any case). */
  userCol?: string;
  /** Column holding the item id; default: first of itemId, item_id, item, movieId, movie_id, iid (any case). */
  itemCol?: string;
  /** Column holding the rating; default: rating, ratings, score (any case). When absent the data is implicit feedback. */
  ratingCol?: string;
  /** Column holding the time (unix seconds or ISO-8601); default: timestamp, time, ts, datetime, date (any case). Optional. */
  timestampCol?: string;
  /** Encoding of generic files; default utf-8 (MovieLens files use their known encodings). */
  encoding?: TextEncodingName;
  /** Item metadata file (csv/tsv with an id column) to attach instead of the folder's own item file. */
  itemsFile?: string;
  /** Id column of `itemsFile`; default the interactions' item column name if present, an alias above, or the first column. */
  itemIdCol?: string;
  /**
   * Existing user id map to extend (e.g. the train set's when loading a test set), so known ids keep
   * their indices and unknown ids are appended. The map is grown in place.
   */
  users?: IdMap;
  /** Existing item id map to extend; see `users`. */
  items?: IdMap;
  /** Called as each file is read. */
  onProgress?: (progress: LoadProgress) => void;
}

export const COLUMN_ALIASES = {
  user: ['userId', 'user_id', 'user', 'uid'],
  item: ['itemId', 'item_id', 'item', 'movieId', 'movie_id', 'iid'],
  rating: ['rating', 'ratings', 'score'],
  timestamp: ['timestamp', 'time', 'ts', 'datetime', 'date'],
} as const satisfies Record<string, readonly string[]>;

/**
 * Index of a column in `header`: the exact `explicit` name when given, else the first alias found
 * (case-insensitive); -1 when none is present.
 */
export function findColumn(header: readonly string[], explicit: string | undefined, aliases: readonly string[]): number {
  if (explicit !== undefined) return header.indexOf(explicit);
  const lower = header.map((h) => h.trim().toLowerCase());
  for (const alias of aliases) {
    const idx = lower.indexOf(alias.toLowerCase());
    if (idx !== -1) return idx;
  }
  return -1;
}
