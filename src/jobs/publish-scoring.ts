/**
 * @module Computing the lists `publish` writes, on one thread or on a pool of worker threads. For
 * the pool, the model's exported state and its seen-items matrix are copied once into shared
 * memory; each worker restores the model from it (through the model type's own factory) and scores
 * ranges of users or items. Results come back per batch, in order, so the caller writes batch i
 * while batch i+1 is being scored.
 */
import { availableParallelism } from 'node:os';
import type { CsrMatrix } from '../core/csr.js';
import { createWorkerPool, resolveWorkerEntry, type TaskExecutor } from '../math/worker-pool.js';
import type { Ranked } from '../models/recommender.js';
import type { TrainedModel } from '../models/trained-model.js';

/** What a publish scores: `u` top-k per user (seen items excluded), `s` similar items per item. */
export type ListKind = 'u' | 's';

export interface ScoreTask {
  readonly kind: ListKind;
  readonly start: number;
  readonly end: number;
  readonly k: number;
}

/** Lists of one task, flattened: list j is entries offsets[j]..offsets[j+1]. */
export interface ScoredLists {
  readonly offsets: Int32Array;
  readonly items: Int32Array;
  readonly scores: Float32Array;
}

export interface ListScorer {
  readonly threads: number;
  /** Scores each task (a range of users or items); resolves with one result per task, in order. */
  score(tasks: readonly ScoreTask[]): Promise<ScoredLists[]>;
  close(): Promise<void>;
}

/**
 * Models needing fewer scores than this ((users + items) × items: every user's and every item's
 * list is a pass over the catalogue) are scored on the calling thread, since workers cost start-up
 * time. Bigger ones go to workers, which also keeps the calling thread free for the store's I/O: a
 * 5k-user × 50k-item model scored inline blocked it for seconds at a time.
 */
export const PARALLEL_MIN_SCORES = 40_000_000;

/** Scores `task` with `model`, reusing `scratch` (length numItems). */
export function scoreTask(model: TrainedModel, task: ScoreTask, scratch: Float32Array): ScoredLists {
  const lists: Ranked[] = [];
  for (let x = task.start; x < task.end; x++) {
    lists.push(task.kind === 'u' ? model.recommend(x, { k: task.k, excludeSeen: true }, scratch) : model.similarItems(x, task.k, scratch));
  }
  return flatten(lists);
}

function flatten(lists: readonly Ranked[]): ScoredLists {
  const offsets = new Int32Array(lists.length + 1);
  lists.forEach((l, j) => (offsets[j + 1] = offsets[j] + l.items.length));
  const items = new Int32Array(offsets[lists.length]);
  const scores = new Float32Array(offsets[lists.length]);
  lists.forEach((l, j) => {
    items.set(l.items, offsets[j]);
    scores.set(l.scores, offsets[j]);
  });
  return { offsets, items, scores };
}

/** List j of a task result. */
export function listAt(r: ScoredLists, j: number): Ranked {
  return { items: r.items.subarray(r.offsets[j], r.offsets[j + 1]), scores: r.scores.subarray(r.offsets[j], r.offsets[j + 1]) };
}

export function inlineScorer(model: TrainedModel): ListScorer {
  const scratch = new Float32Array(model.numItems);
  return {
    threads: 1,
    score: (tasks) => Promise.resolve(tasks.map((t) => scoreTask(model, t, scratch))),
    close: () => Promise.resolve(),
  };
}

/** What a worker needs to rebuild the model: see publish-worker.ts. */
export interface SharedModel {
  readonly type: string;
  readonly hyperParameters: Readonly<Record<string, number | boolean | string>>;
  readonly numUsers: number;
  readonly numItems: number;
  readonly arrays: Readonly<Record<string, Float32Array | Int32Array>>;
  readonly values: Readonly<Record<string, number>>;
  readonly seen: CsrMatrix;
}

function shared<T extends Float32Array | Int32Array>(a: T): T {
  const out = (a instanceof Float32Array ? new Float32Array(new SharedArrayBuffer(a.byteLength)) : new Int32Array(new SharedArrayBuffer(a.byteLength))) as T;
  out.set(a);
  return out;
}

/**
 * A scorer for `model`: worker threads when `threads` > 1, the compiled worker entry exists and the
 * model is large enough to pay for them (or `threads` was asked for explicitly); else inline.
 * @param threads worker threads; default min(cores, 4) for models needing PARALLEL_MIN_SCORES scores or more
 */
export async function createListScorer(model: TrainedModel, threads?: number): Promise<ListScorer> {
  const scores = (model.numUsers + model.numItems) * model.numItems;
  const n = threads ?? (scores >= PARALLEL_MIN_SCORES ? Math.min(availableParallelism(), 4) : 1);
  const entry = n > 1 ? resolveWorkerEntry('./publish-worker.js', import.meta.url) : null;
  if (!entry) return inlineScorer(model);
  const state = model.recommender.exportState();
  const data: SharedModel = {
    type: model.recommender.type,
    hyperParameters: model.recommender.hyperParameters,
    numUsers: model.numUsers,
    numItems: model.numItems,
    arrays: Object.fromEntries(Object.entries(state.arrays).map(([k, a]) => [k, shared(a)])),
    values: state.values,
    seen: { rows: model.seen.rows, cols: model.seen.cols, indptr: shared(model.seen.indptr), indices: shared(model.seen.indices), data: shared(model.seen.data) },
  };
  const pool: TaskExecutor<ScoreTask, ScoredLists> = await createWorkerPool<ScoreTask, ScoredLists>(entry, n, { model: data });
  return { threads: n, score: (tasks) => pool.run(tasks), close: () => pool.close() };
}
