/**
 * @module The one entry point for reading data: `loadDataset(path)` recognises a MovieLens folder
 * (100K, 1M/10M, 20M and later) or a single interaction file and returns interactions plus item
 * metadata.
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { RecError } from '../core/errors.js';
import { detectFormat, EXPECTED_INPUTS, FOLDER_RATINGS_FILE, isFolderFormat, type FolderFormat } from './detect-format.js';
import type { Dataset, ItemMetadata } from './interactions.js';
import { loadInteractionsFile } from './load-interactions.js';
import { loadItemMetadataFile } from './load-item-metadata.js';
import { loadMovieLens100kGenres, loadMovieLens100kItems, loadMovieLensCsvItems, loadMovieLensDatItems } from './load-movielens-items.js';
import type { LoadOptions } from './load-options.js';

/**
 * Loads a data set from a folder or a file.
 * - Folder: MovieLens 100K (`u.data`, `u.item`, `u.genre`), 1M/10M (`ratings.dat`, `movies.dat`) or
 *   20M/25M/32M/latest (`ratings.csv`, `movies.csv`); the item file is optional.
 * - File: `.csv`/`.tsv`/`.jsonl` with named columns (see LoadOptions), or a MovieLens rating file.
 * `options.itemsFile` attaches a generic item metadata file instead of the folder's own.
 * @throws RTREC_ERR_DATA_NOT_FOUND, RTREC_ERR_DATA_EMPTY, RTREC_ERR_DATA_BAD_ROW, RTREC_ERR_DATA_UNKNOWN_FORMAT.
 */
export async function loadDataset(path: string, options: LoadOptions = {}): Promise<Dataset> {
  const { kind, format } = await detectFormat(path, options.format);
  if (kind === 'file') {
    const interactions = await loadInteractionsFile(path, { ...options, format });
    return { interactions, itemMetadata: await loadItemsFile(options), source: path };
  }
  if (!isFolderFormat(format)) {
    throw new RecError('RTREC_ERR_DATA_UNKNOWN_FORMAT', `${path}: format ${format} needs a file, but this is a folder; expected ${EXPECTED_INPUTS}`, {
      details: { file: path },
    });
  }
  const interactions = await loadInteractionsFile(join(path, FOLDER_RATINGS_FILE[format]), { ...options, format });
  const itemMetadata = options.itemsFile !== undefined ? await loadItemsFile(options) : await loadFolderItems(path, format, options);
  return { interactions, itemMetadata, source: path };
}

async function loadItemsFile(options: LoadOptions): Promise<ItemMetadata | null> {
  if (options.itemsFile === undefined) return null;
  return loadItemMetadataFile(options.itemsFile, {
    idCol: options.itemIdCol,
    preferredIdCols: options.itemCol === undefined ? [] : [options.itemCol],
    encoding: options.encoding,
    onProgress: options.onProgress,
  });
}

async function loadFolderItems(dir: string, format: FolderFormat, options: LoadOptions): Promise<ItemMetadata | null> {
  switch (format) {
    case 'movielens-100k': {
      const itemPath = join(dir, 'u.item');
      if (!(await exists(itemPath))) return null;
      const genrePath = join(dir, 'u.genre');
      // Without u.genre the flag columns cannot be named; u.item then has 24 columns, 19 of them flags.
      const genres = (await exists(genrePath)) ? await loadMovieLens100kGenres(genrePath) : Array.from({ length: 19 }, (_, i) => `genre${i}`);
      return loadMovieLens100kItems(itemPath, genres, options.onProgress);
    }
    case 'movielens-dat': {
      const itemPath = join(dir, 'movies.dat');
      return (await exists(itemPath)) ? loadMovieLensDatItems(itemPath, options.onProgress) : null;
    }
    case 'movielens-csv': {
      const itemPath = join(dir, 'movies.csv');
      return (await exists(itemPath)) ? loadMovieLensCsvItems(itemPath, options.onProgress) : null;
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
