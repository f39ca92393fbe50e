/**
 * @module Reads the precompute part of a Spark export (`train_als.py --precompute-k`): which files
 * hold what (`export.json` → files.precompute), the item table (`items.jsonl`: every item id with
 * its number of distinct users) and the ranked lists (`user_recs.jsonl`, `similar_items.jsonl`:
 * one subject per line, `{"userId"|"itemId": id, "items": [[itemId, score], …]}` best first). A
 * table is one file (the job wrote to a local folder) or a folder of `part-*` files (executors wrote
 * it); lists are streamed line by line so no table is ever held whole. Anything malformed is
 * RTREC_ERR_MODEL_CORRUPT naming the file and line.
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { atLocation, RecError } from '../core/errors.js';
import { readSparkExport, type SparkExport } from './import-model-export.js';

/** What export.json says about the precompute (jobs/spark/README.md, "Precompute"). */
export interface SparkPrecompute {
  /** Items per user list and per similar-items list (0: no similar items were computed). */
  readonly k: number;
  readonly similarK: number;
  /** Paths relative to the export folder. */
  readonly userRecs: string;
  readonly similarItems?: string;
  readonly items: string;
  /** Lines per table; -1 when executors wrote the table and the driver did not count. */
  readonly counts: { readonly userRecs: number; readonly similarItems: number; readonly items: number };
}

/** One list line: the subject's id and its items as ids with scores, best first. */
export interface SparkListLine {
  readonly subjectId: string;
  readonly itemIds: readonly string[];
  readonly scores: readonly number[];
  /** Where it was read, for messages. */
  readonly file: string;
  readonly line: number;
}

function corrupt(file: string, why: string, line?: number): RecError {
  return new RecError('RTREC_ERR_MODEL_CORRUPT', atLocation(file, line, why), { details: { file, ...(line === undefined ? {} : { line }) } });
}

/**
 * Reads export.json and its precompute description.
 * @throws RTREC_ERR_MODEL_NOT_FOUND without export.json; RTREC_ERR_CONFIG_INVALID when the job ran
 *   without --precompute-k; RTREC_ERR_MODEL_CORRUPT when the description is malformed.
 */
export async function readSparkPrecompute(exportDir: string): Promise<{ sparkExport: SparkExport; precompute: SparkPrecompute }> {
  const sparkExport = await readSparkExport(exportDir);
  const file = join(exportDir, 'export.json');
  const raw = (sparkExport.files as { precompute?: unknown }).precompute;
  if (raw === undefined) {
    throw new RecError('RTREC_ERR_CONFIG_INVALID', `${exportDir} holds no precomputed lists: run the Spark job with --precompute-k K, or publish the imported model with rtrec publish`);
  }
  if (typeof raw !== 'object' || raw === null) throw corrupt(file, 'files.precompute must be an object');
  const p = raw as Record<string, unknown>;
  const { k, similarK } = p;
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1) throw corrupt(file, `files.precompute.k must be a positive integer, got ${JSON.stringify(k)}`);
  if (typeof similarK !== 'number' || !Number.isInteger(similarK) || similarK < 0) {
    throw corrupt(file, `files.precompute.similarK must be an integer >= 0, got ${JSON.stringify(similarK)}`);
  }
  if (typeof p.userRecs !== 'string' || typeof p.items !== 'string') throw corrupt(file, 'files.precompute.userRecs and .items must be paths');
  if (similarK > 0 && typeof p.similarItems !== 'string') throw corrupt(file, 'files.precompute.similarItems missing although similarK > 0');
  const c = p.counts as Record<string, unknown> | null | undefined;
  if (typeof c !== 'object' || c === null || ![c.userRecs, c.similarItems, c.items].every((n) => typeof n === 'number' && Number.isInteger(n) && n >= -1)) {
    throw corrupt(file, 'files.precompute.counts must hold userRecs, similarItems and items line counts');
  }
  return { sparkExport, precompute: raw as SparkPrecompute };
}

/** The files of a table: the file itself, or a folder's `part-*` files in name order. */
export async function tableFiles(path: string): Promise<string[]> {
  let isDir: boolean;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch (err) {
    throw new RecError('RTREC_ERR_MODEL_CORRUPT', `${path}: table missing from the Spark export`, { cause: err, details: { file: path } });
  }
  if (!isDir) return [path];
  const parts = (await readdir(path)).filter((name) => name.startsWith('part-')).sort();
  return parts.map((name) => join(path, name));
}

/** Yields each non-empty line of a table (all its files in order) with its file and 1-based line number. */
async function* tableLines(path: string): AsyncGenerator<{ text: string; file: string; line: number }> {
  for (const file of await tableFiles(path)) {
    const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
    let line = 0;
    for await (const text of lines) {
      line++;
      if (text.trim() !== '') yield { text, file, line };
    }
  }
}

function parseLine(text: string, file: string, line: number): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw corrupt(file, 'not valid JSON', line);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw corrupt(file, 'each line must be a JSON object', line);
  return value as Record<string, unknown>;
}

/**
 * Reads the item table: ids in file order (their index in the published catalogue) and distinct
 * users per item.
 * @throws RTREC_ERR_MODEL_CORRUPT on a malformed line or an id listed twice.
 */
export async function readSparkItems(path: string): Promise<{ ids: string[]; users: Float64Array }> {
  const ids: string[] = [];
  const users: number[] = [];
  const known = new Set<string>();
  for await (const { text, file, line } of tableLines(path)) {
    const row = parseLine(text, file, line);
    if (typeof row.itemId !== 'string' || row.itemId === '') throw corrupt(file, 'itemId must be a non-empty string', line);
    if (!Number.isInteger(row.users) || (row.users as number) < 0) throw corrupt(file, `users must be a count, got ${JSON.stringify(row.users)}`, line);
    if (known.has(row.itemId)) throw corrupt(file, `item ${JSON.stringify(row.itemId)} is listed twice`, line);
    known.add(row.itemId);
    ids.push(row.itemId);
    users.push(row.users as number);
  }
  return { ids, users: Float64Array.from(users) };
}

/**
 * Streams a list table (`key` names the subject field: 'userId' or 'itemId').
 * @throws RTREC_ERR_MODEL_CORRUPT on a malformed line (missing id, items not [id, finite score]
 *   pairs, scores not best first).
 */
export async function* readSparkLists(path: string, key: 'userId' | 'itemId'): AsyncGenerator<SparkListLine> {
  for await (const { text, file, line } of tableLines(path)) {
    const row = parseLine(text, file, line);
    const subjectId = row[key];
    if (typeof subjectId !== 'string' || subjectId === '') throw corrupt(file, `${key} must be a non-empty string`, line);
    if (!Array.isArray(row.items)) throw corrupt(file, 'items must be a list of [itemId, score] pairs', line);
    const itemIds: string[] = [];
    const scores: number[] = [];
    for (const entry of row.items as unknown[]) {
      if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string' || typeof entry[1] !== 'number' || !Number.isFinite(entry[1])) {
        throw corrupt(file, `items must be [itemId, finite score] pairs, got ${JSON.stringify(entry)}`, line);
      }
      // Best first, with slack for scores that differ only by float rounding.
      if (scores.length > 0 && entry[1] > scores[scores.length - 1] + 1e-6 * Math.max(1, Math.abs(entry[1]))) {
        throw corrupt(file, `items of ${JSON.stringify(subjectId)} are not best first`, line);
      }
      itemIds.push(entry[0]);
      scores.push(entry[1]);
    }
    yield { subjectId, itemIds, scores, file, line };
  }
}
