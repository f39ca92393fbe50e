/**
 * @module Writes interactions as canonical CSV (`userId,itemId[,rating][,timestamp]`, original ids)
 * so that reading the file back gives exactly the same rows. The file is streamed to a temporary
 * name and renamed into place, so a crash never leaves a half-written file.
 */
import { open, rename, rm } from 'node:fs/promises';
import { prepareFileTarget } from '../core/atomic-fs.js';
import { quoteCsvField } from './csv.js';
import type { Interactions } from './interactions.js';

export interface WriteInteractionsOptions {
  /** False drops the rating column; it is written by default whenever the interactions have ratings. */
  rating?: boolean;
  /** False drops the timestamp column; it is written by default whenever the interactions have timestamps. */
  timestamp?: boolean;
  /** Called after each written chunk with rows written so far and the total. */
  onProgress?: (rowsWritten: number, totalRows: number) => void;
}

const ROWS_PER_CHUNK = 65_536;

/**
 * Writes `interactions` to `path` as canonical CSV with a header row. Ratings are printed as the
 * shortest decimal that reads back to the same float32; timestamps as integers when integral.
 */
export async function writeInteractionsCsv(path: string, interactions: Interactions, options: WriteInteractionsOptions = {}): Promise<void> {
  const rating = options.rating === false ? null : interactions.rating;
  const timestamp = options.timestamp === false ? null : interactions.timestamp;
  const userIds = quotedIds(interactions.users.toArray());
  const itemIds = quotedIds(interactions.items.toArray());
  const header = ['userId', 'itemId', ...(rating ? ['rating'] : []), ...(timestamp ? ['timestamp'] : [])].join(',');

  const tmp = await prepareFileTarget(path);
  const fh = await open(tmp, 'w');
  try {
    await fh.write(`${header}\n`);
    const n = interactions.length;
    for (let start = 0; start < n; start += ROWS_PER_CHUNK) {
      const end = Math.min(n, start + ROWS_PER_CHUNK);
      let chunk = '';
      for (let i = start; i < end; i++) {
        chunk += `${userIds[interactions.user[i]]},${itemIds[interactions.item[i]]}`;
        if (rating) chunk += `,${formatFloat32(rating[i])}`;
        if (timestamp) chunk += `,${String(timestamp[i])}`;
        chunk += '\n';
      }
      await fh.write(chunk);
      options.onProgress?.(end, n);
    }
    await fh.sync();
    await fh.close();
    await rename(tmp, path);
  } catch (err) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw err;
  }
}

function quotedIds(ids: readonly string[]): string[] {
  return ids.map((id) => quoteCsvField(id));
}

/**
 * Shortest decimal string that parses back (as a double, then rounded to float32) to exactly the
 * float32 value `x`. `String(x)` alone would print the double expansion (0.1f → 0.10000000149011612).
 */
export function formatFloat32(x: number): string {
  const f = Math.fround(x);
  if (!Number.isFinite(f)) return String(f);
  const plain = String(f);
  if (plain.length <= 6) return plain;
  for (let digits = 1; digits <= 9; digits++) {
    const s = String(Number(f.toPrecision(digits)));
    if (Math.fround(Number(s)) === f) return s;
  }
  return plain;
}
