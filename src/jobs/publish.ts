/**
 * @module Precompute and publish: scores every user of a trained model (top-K excluding seen items),
 * every item's similar items, the popularity list and the item catalogue, and writes them to an
 * online store as one new version that becomes active only after it reads back as written. Scoring
 * (on worker threads for big models, see publish-scoring.ts) overlaps with the store writing the
 * previous batch.
 */
import { performance } from 'node:perf_hooks';
import type { CsrMatrix } from '../core/csr.js';
import { createProgress } from '../core/progress.js';
import { topK } from '../math/topk.js';
import { EVENTS_WATERMARK_META, type EventsWatermark } from '../models/manifest.js';
import type { Ranked } from '../models/recommender.js';
import type { TrainedModel } from '../models/trained-model.js';
import type { CatalogEntry, OnlineStore, SubjectList, VersionCounts, VersionWriter } from '../store/online-store.js';
import { createListScorer, listAt, type ListKind, type ListScorer, type ScoredLists, type ScoreTask } from './publish-scoring.js';

export const PUBLISH_DEFAULTS = { topK: 100, similarK: 20, popularK: 100, batchSize: 1000 } as const;

export interface PublishOptions {
  /** Items per user list (default 100, so filters and k up to 100 are answered from the list). */
  readonly topK?: number;
  /** Items per similar-items list (default 20). */
  readonly similarK?: number;
  /** Items in the popularity list (default 100). */
  readonly popularK?: number;
  /** Lists per store write (one transaction or pipeline), default 1000. */
  readonly batchSize?: number;
  /** Make the new version active once verified (default true). */
  readonly activate?: boolean;
  /** Show a progress bar (default: when stderr is a terminal). */
  readonly progress?: boolean;
  /** Worker threads for scoring; default: min(cores, 4) for models of 20k users or more, else 1. */
  readonly threads?: number;
  /** Called after each batch of user lists is handed to the store, with the users done so far. */
  readonly onUserBatch?: (usersDone: number) => void | Promise<void>;
}

export interface PublishReport {
  readonly version: number;
  readonly activated: boolean;
  readonly store: string;
  readonly counts: VersionCounts;
  /** Seconds the publishing thread spent computing lists or waiting for worker threads to. */
  readonly scoringSeconds: number;
  /** Seconds the publishing thread spent on store work not overlapped by scoring (handing over and waiting for batches, verification). */
  readonly writeSeconds: number;
  readonly totalSeconds: number;
  /** What the user should know, e.g. that the model's events watermark was not recorded. */
  readonly notes?: readonly string[];
}

/**
 * Publishes `model` to `store` as a new version. On any failure the new version is discarded and
 * the previously active version keeps serving.
 * @throws RTREC_ERR_STORE_* from the store, RTREC_ERR_STORE_VERIFY_FAILED when read-back differs
 */
export async function publishModel(model: TrainedModel, store: OnlineStore, options: PublishOptions = {}): Promise<PublishReport> {
  const topKUsers = options.topK ?? PUBLISH_DEFAULTS.topK;
  const similarK = options.similarK ?? PUBLISH_DEFAULTS.similarK;
  const popularK = options.popularK ?? PUBLISH_DEFAULTS.popularK;
  const batchSize = options.batchSize ?? PUBLISH_DEFAULTS.batchSize;
  const started = performance.now();
  const clock = { scoring: 0, writing: 0 };
  const events = await watermarkFor(model.info.training.eventsWatermark, store);

  const writer = await store.beginVersion({
    expected: { u: model.numUsers, s: model.numItems, p: 1, c: model.numItems },
    meta: {
      modelType: model.info.type,
      modelCreatedAt: model.info.createdAt,
      dataFingerprint: model.info.training.dataFingerprint,
      numUsers: model.numUsers,
      numItems: model.numItems,
      topK: topKUsers,
      similarK,
      popularK,
      // Which logged events the model learned: the online update must not fold them in again.
      ...(events.watermark ? { [EVENTS_WATERMARK_META]: JSON.stringify(events.watermark) } : {}),
    },
  });
  const bar = createProgress('publish', model.numUsers + model.numItems, options.progress === undefined ? {} : { enabled: options.progress });
  const pipe = new WritePipe(clock);
  let scorer: ListScorer | undefined;
  try {
    await pipe.write(() => writer.putPopular(popularityFromSeen(model.seen, popularK)));
    await writeCatalog(model, writer, batchSize, pipe);

    scorer = await createListScorer(model, options.threads);
    for await (const { start, lists } of scoredBatches(scorer, 's', model.numItems, batchSize, similarK, clock)) {
      const batch: SubjectList[] = [];
      for (let j = 0; j < lists.offsets.length - 1; j++) batch.push({ subjectId: model.items.idOf(start + j), ranked: listAt(lists, j) });
      await pipe.write(() => writer.putSimilarItems(batch));
      bar.tick(batch.length);
    }
    for await (const { start, lists } of scoredBatches(scorer, 'u', model.numUsers, batchSize, topKUsers, clock)) {
      const batch: SubjectList[] = [];
      for (let j = 0; j < lists.offsets.length - 1; j++) batch.push({ subjectId: model.users.idOf(start + j), ranked: listAt(lists, j) });
      await pipe.write(() => writer.putUserRecs(batch));
      bar.tick(batch.length);
      await options.onUserBatch?.(start + batch.length);
    }
    await pipe.drain();
    await scorer.close();

    const t0 = performance.now();
    const record = await writer.commit({ activate: options.activate ?? true });
    clock.writing += performance.now() - t0;
    bar.stop();
    return {
      version: record.version,
      activated: options.activate ?? true,
      store: store.description,
      counts: record.counts ?? { u: 0, s: 0, p: 0, c: 0 },
      scoringSeconds: clock.scoring / 1000,
      writeSeconds: clock.writing / 1000,
      totalSeconds: (performance.now() - started) / 1000,
      ...(events.note ? { notes: [events.note] } : {}),
    };
  } catch (err) {
    bar.stop();
    await scorer?.close().catch(() => undefined);
    await pipe.drain().catch(() => undefined);
    await writer.abort(err instanceof Error ? err.message : String(err)).catch(() => undefined);
    throw err;
  }
}

/**
 * The events watermark to record with a version in `store`: the model's, when it was taken from this
 * store (same OnlineStore.storeId), or none, with a note why. A cut-off is a position in one store's
 * log: in another store's log the same positions are other events, none of them learned, so there
 * the version records none and the server folds in all of that store's events. Publishing a model
 * trained on one store's export to another store (staging, a new region) is legitimate, so this is
 * not an error. A watermark without storeId (exported before identities) is recorded unchecked.
 */
export async function watermarkFor(watermark: EventsWatermark | undefined, store: OnlineStore): Promise<{ readonly watermark?: EventsWatermark; readonly note?: string }> {
  if (!watermark || watermark.storeId === undefined) return watermark ? { watermark } : {};
  const here = await store.storeId();
  if (here === watermark.storeId) return { watermark };
  return {
    note:
      `the model's events watermark comes from an export of another store (${watermark.store}, identity ${watermark.storeId}; ` +
      `${store.description} is ${here ?? 'one no export was taken from'}): not recorded, so this store's logged events are all folded in`,
  };
}

/**
 * The k items seen by the most distinct users in training, best first; score = number of users.
 * Items nobody saw are left out.
 */
export function popularityFromSeen(seen: CsrMatrix, k: number): Ranked {
  const counts = new Float64Array(seen.cols);
  const nnz = seen.indptr[seen.rows];
  for (let p = 0; p < nnz; p++) counts[seen.indices[p]] += 1;
  for (let i = 0; i < counts.length; i++) if (counts[i] === 0) counts[i] = -Infinity;
  return topK(counts, k);
}

async function writeCatalog(model: TrainedModel, writer: VersionWriter, batchSize: number, pipe: WritePipe): Promise<void> {
  const meta = model.itemMetadata?.byId;
  for (let start = 0; start < model.numItems; start += batchSize) {
    const batch: CatalogEntry[] = [];
    for (let i = start; i < Math.min(start + batchSize, model.numItems); i++) {
      const itemId = model.items.idOf(i);
      batch.push({ idx: i, itemId, metadata: meta?.get(itemId) ?? null });
    }
    await pipe.write(() => writer.putCatalog(batch));
  }
}

/**
 * Scored batches of `batchSize` users or items in order. Scoring of the next group of batches (two
 * per thread) is started before the current group is handed out, so workers score while the caller
 * writes. Time spent launching or waiting for scoring is added to `clock.scoring`.
 */
async function* scoredBatches(
  scorer: ListScorer,
  kind: ListKind,
  total: number,
  batchSize: number,
  k: number,
  clock: { scoring: number },
): AsyncGenerator<{ start: number; lists: ScoredLists }> {
  const group = scorer.threads * 2;
  const tasksFrom = (from: number): ScoreTask[] => {
    const tasks: ScoreTask[] = [];
    for (let s = from; s < total && tasks.length < group; s += batchSize) tasks.push({ kind, start: s, end: Math.min(s + batchSize, total), k });
    return tasks;
  };
  const launch = (tasks: ScoreTask[]): Promise<ScoredLists[]> | undefined => {
    if (tasks.length === 0) return undefined;
    const t0 = performance.now();
    const p = scorer.score(tasks);
    clock.scoring += performance.now() - t0;
    // Observed below; a prefetch abandoned because the caller stopped must not be reported unhandled.
    p.catch(() => undefined);
    return p;
  };
  let tasks = tasksFrom(0);
  let pending = launch(tasks);
  while (pending) {
    const t0 = performance.now();
    const results = await pending;
    clock.scoring += performance.now() - t0;
    const current = tasks;
    tasks = tasksFrom(current[current.length - 1].end);
    pending = launch(tasks);
    for (let j = 0; j < current.length; j++) yield { start: current[j].start, lists: results[j] };
  }
}

/**
 * At most one store write in flight, so the next batch is scored while the previous one is written.
 * Store time counts what the publishing thread spends on writes: handing a batch over (encoding,
 * queueing) and waiting for the previous one to finish; time the store works while scoring runs is
 * not counted, so scoring + store time ≈ total.
 */
class WritePipe {
  #pending: Promise<void> | undefined;
  readonly #clock: { writing: number };

  constructor(clock: { writing: number }) {
    this.#clock = clock;
  }

  async write(start: () => Promise<void>): Promise<void> {
    await this.drain();
    const t0 = performance.now();
    const p = start();
    this.#clock.writing += performance.now() - t0;
    // Rejections are observed in drain(); this keeps Node from reporting them as unhandled meanwhile.
    p.catch(() => undefined);
    this.#pending = p;
  }

  async drain(): Promise<void> {
    const p = this.#pending;
    this.#pending = undefined;
    if (!p) return;
    const t0 = performance.now();
    try {
      await p;
    } finally {
      this.#clock.writing += performance.now() - t0;
    }
  }
}
