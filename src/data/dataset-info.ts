/**
 * @module Summary statistics of a loaded data set for `rtrec data info`: counts, density, rating
 * range, time range and item metadata fields.
 */
import type { Dataset } from './interactions.js';

export interface DatasetSummary {
  source: string;
  /** Distinct users / items that occur in the rows (id maps may hold more when shared). */
  users: number;
  items: number;
  interactions: number;
  /** interactions / (users × items), in [0, 1] unless a pair repeats. */
  density: number;
  /** null for implicit feedback. */
  rating: { min: number; max: number; mean: number } | null;
  /** Unix seconds; null when there are no timestamps. */
  time: { min: number; max: number; minIso: string; maxIso: string } | null;
  /** Metadata field names, or null when no item metadata was loaded. */
  itemMetadataFields: string[] | null;
  /** Items that occur in the rows and have a metadata record. */
  itemsWithMetadata: number;
}

export function summarizeDataset(dataset: Dataset): DatasetSummary {
  const x = dataset.interactions;
  const userSeen = new Uint8Array(x.users.size);
  const itemSeen = new Uint8Array(x.items.size);
  let users = 0;
  let items = 0;
  for (let i = 0; i < x.length; i++) {
    if (userSeen[x.user[i]] === 0) {
      userSeen[x.user[i]] = 1;
      users++;
    }
    if (itemSeen[x.item[i]] === 0) {
      itemSeen[x.item[i]] = 1;
      items++;
    }
  }
  let rating: DatasetSummary['rating'] = null;
  if (x.rating !== null && x.length > 0) {
    let min = Infinity;
    let max = -Infinity;
    let sum = 0;
    for (const r of x.rating) {
      if (r < min) min = r;
      if (r > max) max = r;
      sum += r;
    }
    rating = { min, max, mean: sum / x.length };
  }
  let time: DatasetSummary['time'] = null;
  if (x.timestamp !== null && x.length > 0) {
    let min = Infinity;
    let max = -Infinity;
    for (const t of x.timestamp) {
      if (t < min) min = t;
      if (t > max) max = t;
    }
    time = { min, max, minIso: isoOrEmpty(min), maxIso: isoOrEmpty(max) };
  }
  let itemsWithMetadata = 0;
  const meta = dataset.itemMetadata;
  if (meta !== null) {
    for (let idx = 0; idx < itemSeen.length; idx++) {
      if (itemSeen[idx] === 1 && meta.byId.has(x.items.idOf(idx))) itemsWithMetadata++;
    }
  }
  return {
    source: dataset.source,
    users,
    items,
    interactions: x.length,
    density: users * items === 0 ? 0 : x.length / (users * items),
    rating,
    time,
    itemMetadataFields: meta === null ? null : [...meta.fields],
    itemsWithMetadata,
  };
}

function isoOrEmpty(seconds: number): string {
  const d = new Date(seconds * 1000);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}
