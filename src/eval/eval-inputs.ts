/**
 * @module Reads the files `rtrec evaluate` compares. Truth and train go through the data loader
 * (`loadInteractionsFile`: CSV/TSV/JSONL with a header such as `userId,itemId[,rating][,timestamp]`, or
 * MovieLens rating files). Predictions are a CSV (TSV for .tsv/.tab) with header `userId,itemId` plus
 * `score` and/or `rank` (ranking) and/or `prediction` (rating), names matched case-insensitively in any
 * order, other columns ignored. All files share one pair of IdMaps so indices are comparable. Every
 * problem with the content is an RTREC_ERR_EVAL_INPUT naming file:line.
 */
import { basename, extname } from 'node:path';
import { atLocation, isRecError, RecError } from '../core/errors.js';
import { IdMap } from '../core/ids.js';
import { createProgress } from '../core/progress.js';
import { forEachRecord } from '../data/csv.js';
import { detachString, isBlank } from '../data/field-parsers.js';
import type { Interactions } from '../data/interactions.js';
import { loadInteractionsFile } from '../data/load-interactions.js';

/** The two id spaces every evaluation input shares. */
export interface IdSpace {
  readonly users: IdMap;
  readonly items: IdMap;
}

export function createIdSpace(): IdSpace {
  return { users: new IdMap(), items: new IdMap() };
}

/** Prediction rows in file order. A column the file lacks is null. */
export interface PredictionRows {
  readonly length: number;
  readonly user: Int32Array;
  readonly item: Int32Array;
  /** Ranking score, higher is better. */
  readonly score: Float64Array | null;
  /** Position in the user's list, 1 = best; used for ordering only when there is no score. */
  readonly rank: Float64Array | null;
  /** Predicted rating. */
  readonly prediction: Float64Array | null;
  /** 1-based line of each row, for error messages. */
  readonly line: Int32Array;
}

const USER_NAMES = ['userid', 'user_id', 'user'];
const ITEM_NAMES = ['itemid', 'item_id', 'item'];
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
/** Data-loader codes that mean "this file's content is unusable" here. */
const CONTENT_CODES: ReadonlySet<string> = new Set(['RTREC_ERR_DATA_BAD_ROW', 'RTREC_ERR_DATA_EMPTY', 'RTREC_ERR_DATA_UNKNOWN_FORMAT']);

export interface ReadOptions {
  /** Show a byte progress bar (default: when stderr is a terminal). */
  progress?: boolean;
}

/**
 * Reads a truth or train file into Interactions (ratings kept when it has a rating column).
 * @throws RTREC_ERR_DATA_NOT_FOUND for a missing file; RTREC_ERR_EVAL_INPUT (the loader's file:line
 *   message) for an unknown format, a bad header or row, or a file without rows.
 */
export async function readInteractionsFile(path: string, ids: IdSpace, options: ReadOptions = {}): Promise<Interactions> {
  const progress = fileProgress(path, options);
  try {
    return await loadInteractionsFile(path, {
      users: ids.users,
      items: ids.items,
      onProgress: ({ bytesRead, totalBytes }) => progress.update(bytesRead, totalBytes),
    });
  } catch (err) {
    if (isRecError(err) && CONTENT_CODES.has(err.code)) {
      throw new RecError('RTREC_ERR_EVAL_INPUT', err.message, { cause: err, details: err.details });
    }
    throw err;
  } finally {
    progress.stop();
  }
}

/**
 * Reads a predictions file.
 * @throws RTREC_ERR_DATA_NOT_FOUND for a missing file; RTREC_ERR_EVAL_INPUT on a bad header (no score,
 *   rank or prediction column), row or value, a file without rows, or a (user, item) pair listed twice.
 */
export async function readPredictionsFile(path: string, ids: IdSpace, options: ReadOptions = {}): Promise<PredictionRows> {
  let cols: { user: number; item: number; score: number; rank: number; prediction: number; width: number } | undefined;
  const user = new GrowableInt32(), item = new GrowableInt32(), line = new GrowableInt32();
  const score = new GrowableFloat64(), rank = new GrowableFloat64(), prediction = new GrowableFloat64();
  const onHeader = (header: readonly string[], headerLine: number) => {
    const find = (names: readonly string[]) => header.findIndex((h) => names.includes(h.trim().toLowerCase()));
    const c = { user: find(USER_NAMES), item: find(ITEM_NAMES), score: find(['score']), rank: find(['rank']), prediction: find(['prediction']), width: 0 };
    if (c.user < 0 || c.item < 0 || (c.score < 0 && c.rank < 0 && c.prediction < 0)) {
      throw rowError(
        path,
        headerLine,
        `header must name the columns userId,itemId,score[,rank] (ranking) or userId,itemId,prediction (rating); got ${JSON.stringify(header.join(','))}`,
      );
    }
    c.width = Math.max(c.user, c.item, c.score, c.rank, c.prediction) + 1;
    cols = c;
  };
  const onRow = (fields: readonly string[], lineNo: number) => {
    const c = cols!;
    if (fields.length < c.width) throw rowError(path, lineNo, `expected at least ${c.width} fields, got ${fields.length}`);
    user.push(indexOf(ids.users, idField(fields[c.user], 'userId', path, lineNo)));
    item.push(indexOf(ids.items, idField(fields[c.item], 'itemId', path, lineNo)));
    line.push(lineNo);
    if (c.score >= 0) score.push(numberField(fields[c.score], 'score', path, lineNo));
    if (c.prediction >= 0) prediction.push(numberField(fields[c.prediction], 'prediction', path, lineNo));
    if (c.rank >= 0) {
      const r = numberField(fields[c.rank], 'rank', path, lineNo);
      if (!Number.isInteger(r) || r < 1) throw rowError(path, lineNo, `rank must be a whole number >= 1, got ${JSON.stringify(fields[c.rank])}`);
      rank.push(r);
    }
  };

  const tabs = ['.tsv', '.tab'].includes(extname(path).toLowerCase());
  const progress = fileProgress(path, options);
  try {
    await forEachRecord(path, (fields, lineNo) => (cols === undefined ? onHeader(fields, lineNo) : onRow(fields, lineNo)), {
      delimiter: tabs ? '\t' : ',',
      quoted: !tabs,
      onBytes: (bytesRead, totalBytes) => progress.update(bytesRead, totalBytes),
    });
  } catch (err) {
    if (isRecError(err) && err.code === 'RTREC_ERR_DATA_BAD_ROW') throw new RecError('RTREC_ERR_EVAL_INPUT', err.message, { cause: err, details: err.details });
    throw err;
  } finally {
    progress.stop();
  }
  if (cols === undefined) throw new RecError('RTREC_ERR_EVAL_INPUT', atLocation(path, undefined, 'file is empty (expected a header row)'), { details: { file: path } });
  if (user.length === 0) throw new RecError('RTREC_ERR_EVAL_INPUT', atLocation(path, undefined, 'file has a header but no rows'), { details: { file: path } });
  const rows: PredictionRows = {
    length: user.length,
    user: user.build(),
    item: item.build(),
    score: cols.score >= 0 ? score.build() : null,
    rank: cols.rank >= 0 ? rank.build() : null,
    prediction: cols.prediction >= 0 ? prediction.build() : null,
    line: line.build(),
  };
  checkNoDuplicatePairs(rows, ids.items.size, path);
  return rows;
}

/** A progress bar over a file's bytes, created lazily once its size is known. */
function fileProgress(path: string, options: ReadOptions): { update(bytes: number, total: number): void; stop(): void } {
  let bar: ReturnType<typeof createProgress> | undefined;
  return {
    update(bytes, total) {
      bar ??= createProgress(`reading ${basename(path)}`.slice(0, 18), total, options.progress === undefined ? {} : { enabled: options.progress });
      bar.update(bytes);
    },
    stop() {
      bar?.stop();
    },
  };
}

/** Rejects a (user, item) pair listed twice: its score would be ambiguous (Recommenders assumes none). */
function checkNoDuplicatePairs(rows: PredictionRows, numItems: number, path: string): void {
  const order = rowsByUser(rows);
  const stampUser = new Int32Array(numItems).fill(-1);
  const stampRow = new Int32Array(numItems);
  for (const r of order) {
    const u = rows.user[r], i = rows.item[r];
    if (stampUser[i] === u) {
      throw rowError(path, rows.line[r], `duplicate prediction for the pair (user, item) already given at line ${rows.line[stampRow[i]]}`);
    }
    stampUser[i] = u;
    stampRow[i] = r;
  }
}

/** Row indices grouped by user (counting sort, so file order is kept within each user). */
function rowsByUser(rows: { length: number; user: Int32Array }): Int32Array {
  let numUsers = 0;
  for (let r = 0; r < rows.length; r++) if (rows.user[r] >= numUsers) numUsers = rows.user[r] + 1;
  const start = new Int32Array(numUsers + 1);
  for (let r = 0; r < rows.length; r++) start[rows.user[r] + 1]++;
  for (let u = 0; u < numUsers; u++) start[u + 1] += start[u];
  const order = new Int32Array(rows.length);
  for (let r = 0; r < rows.length; r++) order[start[rows.user[r]]++] = r;
  return order;
}

/**
 * Each user's items ordered as Recommenders' get_top_k_items orders them — score descending, ties in
 * file order (pandas sorts by [user, score] with a stable lexsort) — or by rank ascending when the file
 * has ranks but no score. Lists are cut at k; the array is indexed by dense user index.
 * @throws RTREC_ERR_EVAL_INPUT when the rows have neither score nor rank.
 */
export function rankedLists(rows: PredictionRows, k: number): (Int32Array | undefined)[] {
  const { score, rank } = rows;
  if (!score && !rank) throw new RecError('RTREC_ERR_EVAL_INPUT', 'ranking metrics need a score or rank column in the predictions');
  const key = score ? (r: number) => -score[r] : (r: number) => rank![r];
  const order = rowsByUser(rows);
  const lists: (Int32Array | undefined)[] = [];
  let p = 0;
  while (p < order.length) {
    const u = rows.user[order[p]];
    let q = p;
    while (q < order.length && rows.user[order[q]] === u) q++;
    // Array.prototype.sort is stable, and order[p..q) is already in file order.
    const userRows = Array.from(order.subarray(p, q)).sort((a, b) => key(a) - key(b));
    const n = Math.min(k, userRows.length);
    const list = new Int32Array(n);
    for (let j = 0; j < n; j++) list[j] = rows.item[userRows[j]];
    lists[u] = list;
    p = q;
  }
  return lists;
}

/** Dense index of `id`, adding a copy of it when new (a slice would pin the whole read chunk in memory). */
function indexOf(map: IdMap, id: string): number {
  const idx = map.indexOf(id);
  return idx >= 0 ? idx : map.getOrAdd(detachString(id));
}

/** An id as the data loader reads it (verbatim: spaces are part of it), so predictions match the truth's ids. */
function idField(value: string, name: string, path: string, line: number): string {
  if (isBlank(value)) throw rowError(path, line, `${name} is empty`);
  return value;
}

function numberField(value: string, name: string, path: string, line: number): number {
  const text = value.trim();
  if (!NUMBER.test(text)) throw rowError(path, line, `${name} must be a finite number, got ${JSON.stringify(value)}`);
  const n = Number(text);
  if (!Number.isFinite(n)) throw rowError(path, line, `${name} must be a finite number, got ${JSON.stringify(value)}`);
  return n;
}

function rowError(path: string, line: number, message: string): RecError {
  return new RecError('RTREC_ERR_EVAL_INPUT', atLocation(path, line, message), { details: { file: path, line } });
}

class GrowableInt32 {
  #data = new Int32Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.#data.length) {
      const next = new Int32Array(this.#data.length * 2);
      next.set(this.#data);
      this.#data = next;
    }
    this.#data[this.length++] = v;
  }
  build(): Int32Array {
    return this.#data.slice(0, this.length);
  }
}

class GrowableFloat64 {
  #data = new Float64Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.#data.length) {
      const next = new Float64Array(this.#data.length * 2);
      next.set(this.#data);
      this.#data = next;
    }
    this.#data[this.length++] = v;
  }
  build(): Float64Array {
    return this.#data.slice(0, this.length);
  }
}
