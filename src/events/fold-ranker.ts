/**
 * @module Where the online update folds users in and ranks the catalogue for them: on the event loop
 * (inline), or on worker threads so that reads keep being answered meanwhile. Fold-in and ranking are
 * most of an event's CPU on a large catalogue (about a third of the server's main thread at 5,000
 * events/s on 50k items); on the event loop, every read arriving while a group of events is ranked
 * waits for the whole group.
 *
 * A worker holds its own copy of the model's item side, restored from `Recommender.foldInState`
 * through the model's factory, so it computes bit for bit what the model computes here (same code,
 * same arrays). Requests travel packed in a few typed arrays per message. Workers are kept for the two
 * models used last (while a new version takes over, events of the old one still arrive): a call for a
 * third model retires the least recently used one's workers and starts new ones, and ranks inline
 * until they are ready. A model without `foldInState`, a worker that fails, or no compiled worker
 * entry (tests run from sources) also means inline: slower, never different; so does a call too small
 * to pay for the trip to a worker.
 */
import { pairedCopy } from '../core/paired-arrays.js';
import { createWorkerPool, resolveWorkerEntry, type TaskExecutor } from '../math/worker-pool.js';
import type { HyperParameters, ModelState, ModelType, Ranked, Recommender } from '../models/recommender.js';
import { rankInteractions, type TrainedModel } from '../models/trained-model.js';

/** One user to fold in and rank for: the user's interactions and the items not to recommend besides them. */
export interface FoldRequest {
  readonly items: Int32Array;
  readonly values: Float32Array;
  /** Ascending item indices excluded on top of `items` (e.g. disliked); may be empty. */
  readonly exclude: Int32Array;
}

export interface FoldRanker {
  /**
   * Per request, model.recommendFromInteractions(items, values, { k, excludeSeen: true, filter: {
   * exclude } }): the same lists wherever they are computed.
   */
  rank(model: TrainedModel, requests: readonly FoldRequest[], k: number): Promise<Ranked[]>;
  /**
   * Gets ready to rank for `model` (a version about to receive events), so the first events need not
   * wait for workers to start: resolves true once ranking for it runs off the event loop, false when
   * it runs inline.
   */
  prepare(model: TrainedModel): Promise<boolean>;
  /** Stops the workers (idempotent); ranking afterwards runs inline. */
  close(): Promise<void>;
}

/** Ranks on the calling thread. */
export function inlineFoldRanker(): FoldRanker {
  let scratch = new Float32Array(0);
  return {
    rank(model, requests, k) {
      // One scratch buffer for every call: each call runs to completion before the next starts.
      if (scratch.length !== model.numItems) scratch = new Float32Array(model.numItems);
      return Promise.resolve(requests.map((r) => rankRequest(model.recommender, r, k, scratch)));
    },
    prepare: () => Promise.resolve(false),
    close: () => Promise.resolve(),
  };
}

export interface ThreadedFoldRankerOptions {
  /** Worker threads per model; 0 ranks inline. */
  readonly threads: number;
  /** Told why ranking fell back to the event loop (a worker failed to start or died). */
  readonly onFallback?: (reason: string) => void;
  /** The compiled worker entry; default: fold-ranker-worker.js beside this module (null: none). */
  readonly entry?: URL | null;
  /**
   * Calls with fewer requests × items than this rank inline: a trip to a worker and back costs more
   * than a small ranking. Default INLINE_BELOW_SCORES.
   */
  readonly inlineBelow?: number;
}

/**
 * About a millisecond of ranking (1,000 users of a 50-item catalogue, 30 of MovieLens' 1,682 items;
 * a single user of a 50k-item catalogue goes to a worker).
 */
export const INLINE_BELOW_SCORES = 50_000;

/** Models whose workers are kept: the version being served and the one it replaced. */
const MODELS_KEPT = 2;

/** The workers of one model. */
interface Workers {
  readonly model: TrainedModel;
  /** Set once every worker has reported ready. */
  executor?: TaskExecutor<FoldTask, FoldResult>;
  /** Failed to start or died: this model ranks inline from now on. */
  failed: boolean;
  /** Replaced by another model's workers or closed: in-flight calls finish inline. */
  retired: boolean;
  /** Resolves true once `executor` is set, false when it never will be. */
  readonly started: Promise<boolean>;
}

/** Ranks on `threads` worker threads, inline while they start and when they cannot be used. */
export function threadedFoldRanker(options: ThreadedFoldRankerOptions): FoldRanker {
  const inline = inlineFoldRanker();
  const entry = options.entry === undefined ? resolveWorkerEntry('./fold-ranker-worker.js', import.meta.url) : options.entry;
  const inlineBelow = options.inlineBelow ?? INLINE_BELOW_SCORES;
  // The workers of the models used last, least recently used first.
  const pools = new Map<TrainedModel, Workers>();
  let closed = false;

  const retire = (w: Workers): Promise<void> => {
    w.retired = true;
    return w.executor?.close() ?? Promise.resolve();
  };

  const start = (model: TrainedModel): Workers => {
    const foldIn = model.recommender.foldInState?.();
    if (options.threads < 1 || !entry || !foldIn) return { model, failed: true, retired: false, started: Promise.resolve(false) };
    const data: FoldModelData = { type: model.recommender.type, hyperParameters: model.recommender.hyperParameters, numItems: model.numItems, ...foldIn };
    const w: Workers = {
      model,
      failed: false,
      retired: false,
      started: createWorkerPool<FoldTask, FoldResult>(entry, options.threads, { fold: data }).then(
        (executor) => {
          if (w.retired) {
            void executor.close();
            return false;
          }
          w.executor = executor;
          return true;
        },
        (err: unknown) => {
          w.failed = true;
          if (!w.retired) options.onFallback?.(`fold-in workers did not start, folding in on the event loop: ${(err as Error).message}`);
          return false;
        },
      ),
    };
    return w;
  };

  /** The workers for `model`, started if they are not (none once closed). */
  const workersFor = (model: TrainedModel): Workers | undefined => {
    if (closed) return undefined;
    const w = pools.get(model) ?? start(model);
    pools.delete(model);
    pools.set(model, w);
    for (const [old, p] of pools) {
      if (pools.size <= MODELS_KEPT) break;
      pools.delete(old);
      void retire(p);
    }
    return w;
  };

  return {
    async rank(model, requests, k) {
      if (requests.length === 0) return [];
      if (requests.length * model.numItems < inlineBelow) return inline.rank(model, requests, k);
      const w = workersFor(model);
      if (!w?.executor || w.failed || w.retired) return inline.rank(model, requests, k);
      try {
        return unpackResults(await w.executor.run(packRequests(requests, k, w.executor.parallelism)));
      } catch (err) {
        if (w.retired) return inline.rank(model, requests, k);
        w.failed = true;
        void w.executor.close();
        options.onFallback?.(`a fold-in worker failed, folding in on the event loop: ${(err as Error).message}`);
        return inline.rank(model, requests, k);
      }
    },
    async prepare(model) {
      const w = workersFor(model);
      return w !== undefined && (await w.started) && !w.failed && !w.retired;
    },
    async close() {
      closed = true;
      const all = [...pools.values()];
      pools.clear();
      await Promise.all(all.map(retire));
    },
  };
}

/** What a worker restores its model from (see Recommender.foldInState). */
export interface FoldModelData {
  readonly type: ModelType;
  readonly hyperParameters: HyperParameters;
  readonly numUsers: number;
  readonly numItems: number;
  readonly state: ModelState;
}

/** Several requests packed: request r's items are items[itemEnds[r-1] .. itemEnds[r]), likewise exclusions. */
export interface FoldTask {
  readonly k: number;
  readonly items: Int32Array;
  readonly values: Float32Array;
  readonly itemEnds: Int32Array;
  readonly exclude: Int32Array;
  readonly excludeEnds: Int32Array;
}

/** The lists of a task: list r is the first lengths[r] entries from r·k. */
export interface FoldResult {
  readonly k: number;
  readonly lengths: Int32Array;
  readonly items: Int32Array;
  readonly scores: Float32Array;
}

/** Builds the worker's task handler (fold-ranker-worker.ts) from restored state. */
export function foldTaskHandler(recommender: Recommender): (task: FoldTask) => FoldResult {
  const scratch = new Float32Array(recommender.numItems);
  return (task) => {
    const n = task.itemEnds.length;
    const out: FoldResult = { k: task.k, lengths: new Int32Array(n), items: new Int32Array(n * task.k), scores: new Float32Array(n * task.k) };
    for (let r = 0; r < n; r++) {
      const i0 = r === 0 ? 0 : task.itemEnds[r - 1];
      const e0 = r === 0 ? 0 : task.excludeEnds[r - 1];
      const request = {
        items: task.items.subarray(i0, task.itemEnds[r]),
        values: task.values.subarray(i0, task.itemEnds[r]),
        exclude: task.exclude.subarray(e0, task.excludeEnds[r]),
      };
      const ranked = rankRequest(recommender, request, task.k, scratch);
      out.lengths[r] = ranked.items.length;
      out.items.set(ranked.items, r * task.k);
      out.scores.set(ranked.scores, r * task.k);
    }
    return out;
  };
}

function rankRequest(recommender: Recommender, r: FoldRequest, k: number, scratch: Float32Array): Ranked {
  return rankInteractions(recommender, r.items, r.values, { k, excludeSeen: true, ...(r.exclude.length > 0 ? { filter: { exclude: r.exclude } } : {}) }, scratch);
}

/** The requests in at most `parts` tasks of consecutive requests, one per worker. */
function packRequests(requests: readonly FoldRequest[], k: number, parts: number): FoldTask[] {
  const size = Math.ceil(requests.length / Math.max(1, Math.min(parts, requests.length)));
  const tasks: FoldTask[] = [];
  for (let from = 0; from < requests.length; from += size) tasks.push(packTask(requests.slice(from, from + size), k));
  return tasks;
}

function packTask(requests: readonly FoldRequest[], k: number): FoldTask {
  let nItems = 0;
  let nExclude = 0;
  for (const r of requests) {
    nItems += r.items.length;
    nExclude += r.exclude.length;
  }
  const task: FoldTask = {
    k,
    items: new Int32Array(nItems),
    values: new Float32Array(nItems),
    itemEnds: new Int32Array(requests.length),
    exclude: new Int32Array(nExclude),
    excludeEnds: new Int32Array(requests.length),
  };
  let i = 0;
  let e = 0;
  requests.forEach((r, j) => {
    task.items.set(r.items, i);
    task.values.set(r.values, i);
    task.exclude.set(r.exclude, e);
    i += r.items.length;
    e += r.exclude.length;
    task.itemEnds[j] = i;
    task.excludeEnds[j] = e;
  });
  return task;
}

function unpackResults(results: readonly FoldResult[]): Ranked[] {
  const lists: Ranked[] = [];
  for (const res of results) {
    for (let r = 0; r < res.lengths.length; r++) {
      const from = r * res.k;
      // Copied out of the shared result, into one buffer per list: the list may be kept (fold cache).
      const { ints: items, floats: scores } = pairedCopy(res.items.subarray(from, from + res.lengths[r]), res.scores.subarray(from, from + res.lengths[r]));
      lists.push({ items, scores });
    }
  }
  return lists;
}
