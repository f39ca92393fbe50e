/**
 * @module Item metadata for synthetic data: a made-up title and one genre per item, the genre tied to
 * the item's planted latent vector (nearest of a few random genre directions) so that content
 * features carry some of the same signal as the interactions; and a CSV writer for it.
 */
import { writeFileAtomic } from '../core/atomic-fs.js';
import type { IdMap } from '../core/ids.js';
import type { Rng } from '../core/rng.js';
import { quoteCsvField } from './csv.js';
import type { ItemMetadata } from './interactions.js';

export const SYNTHETIC_GENRES = [
  'Action', 'Adventure', 'Animation', 'Comedy', 'Crime', 'Documentary',
  'Drama', 'Fantasy', 'Horror', 'Mystery', 'Romance', 'Sci-Fi', 'Thriller', 'Western',
] as const;

const ADJECTIVES = [
  'Silent', 'Crimson', 'Hidden', 'Last', 'Golden', 'Broken', 'Midnight', 'Electric', 'Lonely', 'Wild',
  'Frozen', 'Secret', 'Burning', 'Distant', 'Hollow', 'Velvet', 'Iron', 'Paper', 'Endless', 'Quiet',
] as const;

const NOUNS = [
  'Harbor', 'Garden', 'Empire', 'River', 'Signal', 'Mirror', 'Orchard', 'Frontier', 'Lantern', 'Machine',
  'Island', 'Winter', 'Highway', 'Kingdom', 'Letter', 'Circus', 'Voyage', 'Station', 'Forest', 'Echo',
] as const;

/**
 * Titles and genres for every item.
 * @param itemFactors row-major [items.size × rank] planted item vectors.
 * @returns fields ['title', 'genres']; genres is a one-element list.
 */
export function makeItemMetadata(items: IdMap, itemFactors: Float32Array, rank: number, rng: Rng): ItemMetadata {
  const numGenres = SYNTHETIC_GENRES.length;
  const directions = new Float64Array(numGenres * rank);
  for (let j = 0; j < directions.length; j++) directions[j] = rng.normal();
  const byId = new Map<string, Readonly<Record<string, string | string[]>>>();
  for (let i = 0; i < items.size; i++) {
    let best = 0;
    let bestScore = -Infinity;
    for (let g = 0; g < numGenres; g++) {
      let s = 0;
      for (let f = 0; f < rank; f++) s += itemFactors[i * rank + f] * directions[g * rank + f];
      if (s > bestScore) {
        bestScore = s;
        best = g;
      }
    }
    const title = `${ADJECTIVES[rng.int(ADJECTIVES.length)]} ${NOUNS[rng.int(NOUNS.length)]} (${1950 + rng.int(75)})`;
    byId.set(items.idOf(i), { title, genres: [SYNTHETIC_GENRES[best]] });
  }
  return { fields: ['title', 'genres'], byId };
}

/**
 * Writes item metadata as CSV (`itemId,<fields…>`, list fields joined with `|`, RFC 4180 quoting) in
 * the order of `items`, atomically. Items without metadata get empty fields.
 */
export async function writeItemMetadataCsv(path: string, items: IdMap, metadata: ItemMetadata): Promise<void> {
  const lines = [['itemId', ...metadata.fields].map((f) => quoteCsvField(f)).join(',')];
  for (let i = 0; i < items.size; i++) {
    const id = items.idOf(i);
    const record = metadata.byId.get(id);
    const cells = [id, ...metadata.fields.map((f) => {
      const v = record?.[f];
      return v === undefined ? '' : Array.isArray(v) ? v.join('|') : v;
    })];
    lines.push(cells.map((c) => quoteCsvField(c)).join(','));
  }
  await writeFileAtomic(path, `${lines.join('\n')}\n`);
}
