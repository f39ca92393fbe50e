/**
 * @module Recognises what a data path holds: a MovieLens folder by its file names, or a single
 * interaction file by its extension.
 */
import { readdir, stat } from 'node:fs/promises';
import { extname, basename } from 'node:path';
import { RecError } from '../core/errors.js';
import type { DataFormat } from './load-options.js';

/** What the loaders accept, for error messages. */
export const EXPECTED_INPUTS =
  'a MovieLens folder (u.data for 100K, ratings.dat for 1M/10M, ratings.csv for 20M/25M/32M/latest) ' +
  'or an interaction file ending in .csv, .tsv, .jsonl (also .dat, .data, .base, .test for MovieLens rating files)';

const EXTENSION_FORMATS: Readonly<Record<string, DataFormat>> = {
  '.csv': 'csv',
  '.tsv': 'tsv',
  '.tab': 'tsv',
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.dat': 'movielens-dat',
  '.data': 'movielens-100k',
  '.base': 'movielens-100k',
  '.test': 'movielens-100k',
};

/** Folder formats by the ratings file that marks them, in detection order. */
export const FOLDER_RATINGS_FILE = {
  'movielens-100k': 'u.data',
  'movielens-dat': 'ratings.dat',
  'movielens-csv': 'ratings.csv',
} as const satisfies Partial<Record<DataFormat, string>>;

export type FolderFormat = keyof typeof FOLDER_RATINGS_FILE;

export function isFolderFormat(format: DataFormat): format is FolderFormat {
  return Object.hasOwn(FOLDER_RATINGS_FILE, format);
}

/**
 * Format of a single interaction file from its extension.
 * @throws RTREC_ERR_DATA_UNKNOWN_FORMAT for any other extension.
 */
export function formatFromExtension(path: string): DataFormat {
  const format = EXTENSION_FORMATS[extname(path).toLowerCase()];
  if (format === undefined) {
    throw new RecError('RTREC_ERR_DATA_UNKNOWN_FORMAT', `${path}: cannot tell the format from the name ${JSON.stringify(basename(path))}; expected ${EXPECTED_INPUTS} (or pass a format)`, {
      details: { file: path },
    });
  }
  return format;
}

/**
 * Whether `path` is a folder or a file.
 * @throws RTREC_ERR_DATA_NOT_FOUND when nothing is there.
 */
export async function pathKind(path: string): Promise<'folder' | 'file'> {
  try {
    return (await stat(path)).isDirectory() ? 'folder' : 'file';
  } catch (err) {
    throw new RecError('RTREC_ERR_DATA_NOT_FOUND', `${path}: no such file or folder`, { cause: err, details: { file: path } });
  }
}

/**
 * Whether `path` is a folder or a file, and its format (`explicit` when given, else detected).
 * @throws RTREC_ERR_DATA_NOT_FOUND when nothing is there; RTREC_ERR_DATA_UNKNOWN_FORMAT when unrecognised.
 */
export async function detectFormat(path: string, explicit?: DataFormat): Promise<{ kind: 'folder' | 'file'; format: DataFormat }> {
  const kind = await pathKind(path);
  if (explicit !== undefined) return { kind, format: explicit };
  if (kind === 'file') return { kind, format: formatFromExtension(path) };
  const names = new Set(await readdir(path));
  for (const [format, file] of Object.entries(FOLDER_RATINGS_FILE) as [FolderFormat, string][]) {
    if (names.has(file)) return { kind, format };
  }
  throw new RecError('RTREC_ERR_DATA_UNKNOWN_FORMAT', `${path}: folder holds none of u.data, ratings.dat, ratings.csv; expected ${EXPECTED_INPUTS}`, {
    details: { file: path },
  });
}
