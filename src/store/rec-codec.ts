/**
 * @module Byte encodings of what the online store holds. A ranked list is one format byte then n
 * little-endian int32 item indices then n little-endian float32 scores: 8 bytes per entry, exact
 * float32 scores, decoded without parsing. The format byte is 1 for a ranked list, 2 for a user's
 * list taken from the popular list (StoredList.fromPopular); it leaves room for later encodings
 * (e.g. lists carrying ids for items added in real time). Catalogue entries are small JSON documents.
 */
import { RecError } from '../core/errors.js';
import type { Ranked } from '../models/recommender.js';
import type { CatalogEntry, ItemFields, StoredList } from './online-store.js';

export const RANKED_FORMAT = 1;
export const FROM_POPULAR_FORMAT = 2;

/** Typed arrays use the platform's byte order; the encoding is little-endian. */
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/**
 * Encodes a ranked list (items and scores of equal length). On little-endian platforms the typed
 * arrays' bytes are the encoding already and are copied in two blocks: writing 8 bytes per entry
 * one by one took ~2 ms for the 1,000 lists of an event group, on the event loop (~0.35 ms copied).
 */
export function encodeRanked(ranked: StoredList): Buffer {
  const { items, scores } = ranked;
  const n = items.length;
  if (scores.length !== n) throw new TypeError(`ranked list has ${n} items but ${scores.length} scores`);
  const out = Buffer.allocUnsafe(1 + 8 * n);
  out[0] = formatOf(ranked);
  if (LITTLE_ENDIAN) {
    out.set(new Uint8Array(items.buffer, items.byteOffset, 4 * n), 1);
    out.set(new Uint8Array(scores.buffer, scores.byteOffset, 4 * n), 1 + 4 * n);
    return out;
  }
  for (let j = 0; j < n; j++) {
    out.writeInt32LE(items[j], 1 + 4 * j);
    out.writeFloatLE(scores[j], 1 + 4 * n + 4 * j);
  }
  return out;
}

/**
 * Decodes encodeRanked output. On little-endian platforms (all common ones) the bytes are copied
 * once into an aligned buffer and viewed as typed arrays; 8 bytes per entry read one by one cost
 * more than the store read itself on the serving path. `where` names the entry in the error (a
 * function, so the name is only built when needed). The result never shares memory with `bytes`.
 *
 * Each list gets a buffer of its own, of exactly its size. Carving lists out of Node's shared
 * Buffer pool halved the collector's ArrayBuffer work on the read path, but the answer cache keeps
 * every list it is given, and one kept list then holds a whole 8 KiB pool block: 8,848 cached
 * top-100 lists held 40-56 MB instead of 7 MB (BENCHMARKS.md, serving section).
 * @throws RTREC_ERR_STORE_CORRUPT on a wrong format or length
 */
export function decodeRanked(bytes: Uint8Array, where: string | (() => string)): StoredList {
  const format = bytes[0];
  if (bytes.length < 1 || (format !== RANKED_FORMAT && format !== FROM_POPULAR_FORMAT) || (bytes.length - 1) % 8 !== 0) {
    const place = typeof where === 'string' ? where : where();
    throw new RecError('RTREC_ERR_STORE_CORRUPT', `${place}: not a ranked list (format byte ${bytes[0]}, ${bytes.length} bytes)`);
  }
  const n = (bytes.length - 1) / 8;
  if (LITTLE_ENDIAN) {
    const aligned = new Uint8Array(8 * n);
    aligned.set(bytes.subarray(1));
    return withFormat({ items: new Int32Array(aligned.buffer, 0, n), scores: new Float32Array(aligned.buffer, 4 * n, n) }, format);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const items = new Int32Array(n);
  const scores = new Float32Array(n);
  for (let j = 0; j < n; j++) {
    items[j] = view.getInt32(1 + 4 * j, true);
    scores[j] = view.getFloat32(1 + 4 * n + 4 * j, true);
  }
  return withFormat({ items, scores }, format);
}

function formatOf(list: StoredList): number {
  return list.fromPopular ? FROM_POPULAR_FORMAT : RANKED_FORMAT;
}

function withFormat(ranked: Ranked, format: number): StoredList {
  return format === FROM_POPULAR_FORMAT ? { ...ranked, fromPopular: true } : ranked;
}

/**
 * True when `bytes` is exactly encodeRanked(`ranked`): lets a reader keep a list it already decoded
 * instead of decoding (and allocating) again. A list from decodeRanked holds its items and scores in
 * one buffer laid out as the encoding is, so the check is one memory comparison.
 */
export function encodes(bytes: Uint8Array, ranked: StoredList): boolean {
  const { items, scores } = ranked;
  const n = items.length;
  if (scores.length !== n || bytes.length !== 1 + 8 * n || bytes[0] !== formatOf(ranked)) return false;
  if (LITTLE_ENDIAN && items.buffer === scores.buffer && scores.byteOffset === items.byteOffset + 4 * n) {
    return Buffer.from(bytes.buffer, bytes.byteOffset + 1, 8 * n).equals(new Uint8Array(items.buffer, items.byteOffset, 8 * n));
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let j = 0; j < n; j++) {
    if (view.getInt32(1 + 4 * j, true) !== items[j] || !Object.is(view.getFloat32(1 + 4 * n + 4 * j, true), scores[j])) return false;
  }
  return true;
}

interface CatalogJson {
  i: number;
  id: string;
  m: ItemFields | null;
}

export function encodeCatalogEntry(entry: CatalogEntry): Buffer {
  const doc: CatalogJson = { i: entry.idx, id: entry.itemId, m: entry.metadata };
  return Buffer.from(JSON.stringify(doc), 'utf8');
}

/** @throws RTREC_ERR_STORE_CORRUPT when the bytes are not a catalogue entry */
export function decodeCatalogEntry(bytes: Uint8Array, where: string): CatalogEntry {
  let doc: CatalogJson;
  try {
    doc = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) as CatalogJson;
  } catch (err) {
    throw new RecError('RTREC_ERR_STORE_CORRUPT', `${where}: catalogue entry is not JSON`, { cause: err });
  }
  if (typeof doc !== 'object' || doc === null || !Number.isInteger(doc.i) || doc.i < 0 || typeof doc.id !== 'string') {
    throw new RecError('RTREC_ERR_STORE_CORRUPT', `${where}: catalogue entry lacks an index or id`);
  }
  return { idx: doc.i, itemId: doc.id, metadata: doc.m ?? null };
}

/** 32-bit FNV-1a over the UTF-16 code units of `s`: a stable, fast hash for sharding and sampling. */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
