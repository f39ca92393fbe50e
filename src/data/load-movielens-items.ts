/**
 * @module Item metadata of the MovieLens releases: 100K `u.item` (pipe-separated, latin-1, genres as
 * 19 flag columns named by `u.genre`), 1M/10M `movies.dat` (`id::title::a|b`, latin-1 or utf-8) and
 * 20M and later `movies.csv` (quoted titles).
 */
import { RecError } from '../core/errors.js';
import { forEachRecord } from './csv.js';
import { badRow, isBlank } from './field-parsers.js';
import type { ItemMetadata } from './interactions.js';
import { detectTextEncoding, forEachLine } from './line-reader.js';
import { loadItemMetadataFile, splitList } from './load-item-metadata.js';
import type { LoadProgress } from './load-options.js';

type Progress = ((progress: LoadProgress) => void) | undefined;
type ItemRecord = Record<string, string | string[]>;

/** Marker MovieLens uses for a film without genres (20M and later). */
const NO_GENRES = new Set(['(no genres listed)']);

/**
 * Genre names by flag position from `u.genre` (`name|index` lines).
 * @throws RTREC_ERR_DATA_BAD_ROW on a malformed line, RTREC_ERR_DATA_EMPTY when it lists none.
 */
export async function loadMovieLens100kGenres(path: string): Promise<string[]> {
  const names: string[] = [];
  await forEachLine(
    path,
    (line, lineNo) => {
      if (isBlank(line)) return;
      const bar = line.lastIndexOf('|');
      const index = Number(line.slice(bar + 1));
      if (bar <= 0 || !Number.isInteger(index) || index < 0 || index > 1000) throw badRow(path, lineNo, 'expected "name|index"');
      names[index] = line.slice(0, bar);
    },
    { encoding: 'latin-1' },
  );
  if (names.length === 0) throw new RecError('RTREC_ERR_DATA_EMPTY', `${path}: lists no genres`, { details: { file: path } });
  for (let i = 0; i < names.length; i++) {
    if (names[i] === undefined) throw badRow(path, undefined, `genre index ${i} missing`);
  }
  return names;
}

/**
 * `u.item`: `id|title|release date|video release date|IMDb URL|flag × genres`.
 * @param genreNames from `u.genre`; their count fixes the expected number of columns.
 */
export async function loadMovieLens100kItems(path: string, genreNames: readonly string[], onProgress?: Progress): Promise<ItemMetadata> {
  const byId = new Map<string, Readonly<ItemRecord>>();
  const width = 5 + genreNames.length;
  await forEachRecord(
    path,
    (f, lineNo) => {
      if (f.length !== width) throw badRow(path, lineNo, `expected ${width} columns, found ${f.length}`);
      const id = f[0];
      if (isBlank(id)) throw badRow(path, lineNo, 'empty movie id');
      const genres: string[] = [];
      for (let g = 0; g < genreNames.length; g++) {
        const flag = f[5 + g];
        if (flag === '1') genres.push(genreNames[g]);
        else if (flag !== '0') throw badRow(path, lineNo, `genre flag ${JSON.stringify(genreNames[g])} must be 0 or 1, got ${JSON.stringify(flag)}`);
      }
      byId.set(id, { title: f[1], releaseDate: f[2], imdbUrl: f[4], genres });
    },
    { delimiter: '|', quoted: false, encoding: 'latin-1', onBytes: bytes(path, onProgress) },
  );
  return finish(path, ['title', 'releaseDate', 'imdbUrl', 'genres'], byId);
}

/** `movies.dat`: `MovieID::Title::Genres`; the encoding is detected (1M is latin-1, 10M utf-8). */
export async function loadMovieLensDatItems(path: string, onProgress?: Progress): Promise<ItemMetadata> {
  const byId = new Map<string, Readonly<ItemRecord>>();
  const encoding = await detectTextEncoding(path);
  await forEachLine(
    path,
    (line, lineNo) => {
      if (isBlank(line)) return;
      // Split at the first and last separator so a title containing "::" stays whole.
      const first = line.indexOf('::');
      const last = line.lastIndexOf('::');
      if (first === -1 || last === first) throw badRow(path, lineNo, 'expected 3 columns (MovieID::Title::Genres)');
      const id = line.slice(0, first);
      if (isBlank(id)) throw badRow(path, lineNo, 'empty movie id');
      byId.set(id, { title: line.slice(first + 2, last), genres: splitList(line.slice(last + 2), NO_GENRES) });
    },
    { encoding, onBytes: bytes(path, onProgress) },
  );
  return finish(path, ['title', 'genres'], byId);
}

/** `movies.csv`: header `movieId,title,genres`; other columns are kept as extra fields. */
export function loadMovieLensCsvItems(path: string, onProgress?: Progress): Promise<ItemMetadata> {
  return loadItemMetadataFile(path, { preferredIdCols: ['movieId'], emptyListMarkers: [...NO_GENRES], onProgress });
}

function bytes(path: string, onProgress: Progress): ((bytesRead: number, totalBytes: number) => void) | undefined {
  return onProgress === undefined ? undefined : (bytesRead, totalBytes) => onProgress({ file: path, bytesRead, totalBytes });
}

function finish(path: string, fields: string[], byId: Map<string, Readonly<ItemRecord>>): ItemMetadata {
  if (byId.size === 0) throw new RecError('RTREC_ERR_DATA_EMPTY', `${path}: item file holds no rows`, { details: { file: path } });
  return { fields, byId };
}
