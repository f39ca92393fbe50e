/**
 * @module Publishes what the Spark job precomputed on the cluster (`train_als.py --precompute-k`):
 * streams the export's user lists, similar-item lists and popularity into a new version of an online
 * store through the standard VersionWriter, so the result has exactly the versioned layout `rtrec
 * publish` writes, and serve, rollback and prune work on it unchanged. Nothing is scored here: the
 * cost is reading JSON lines and writing batches, one batch in flight while the next is parsed.
 */
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { RecError } from '../core/errors.js';
import { createProgress } from '../core/progress.js';
import type { ItemMetadata } from '../data/interactions.js';
import { topK } from '../math/topk.js';
import type { Ranked } from '../models/recommender.js';
import type { CatalogEntry, OnlineStore, SubjectList, VersionCounts, VersionWriter } from '../store/online-store.js';
import { PUBLISH_DEFAULTS } from './publish.js';
import { readSparkItems, readSparkLists, readSparkPrecompute, type SparkListLine } from './publish-spark-read.js';

export interface PublishSparkOptions {
  /** Items in the popularity list (default 100), by distinct users per item as Spark counted them. */
  readonly popularK?: number;
  /** Lists per store write (one transaction or pipeline), default 1000. */
  readonly batchSize?: number;
  /** Make the new version active once verified (default true). */
  readonly activate?: boolean;
  /** Show a progress bar (default: when stderr is a terminal). */
  readonly progress?: boolean;
  /** Item metadata for the catalogue (e.g. from the model folder or an --items file); default none. */
  readonly itemMetadata?: ItemMetadata | null;
}

export interface PublishSparkReport {
  readonly version: number;
  readonly activated: boolean;
  readonly store: string;
  readonly counts: VersionCounts;
  /** Items per user list and per similar-items list, as the Spark job computed them. */
  readonly topK: number;
  readonly similarK: number;
  /** Seconds from start to the committed version (reading, writing, verification). */
  readonly totalSeconds: number;
  /** User and similar-item lists written per second of totalSeconds. */
  readonly listsPerSecond: number;
}

/**
 * Publishes the precomputed lists of a Spark export folder to `store` as a new version. On any
 * failure the new version is discarded and the previously active version keeps serving.
 * @param exportDir a local export folder written by `train_als.py --precompute-k` (tables as files
 *   or folders of part files).
 * @throws RTREC_ERR_CONFIG_INVALID when the export has no precomputed lists; RTREC_ERR_MODEL_CORRUPT
 *   for a malformed table or a list naming an item the item table lacks; RTREC_ERR_STORE_* from the
 *   store (RTREC_ERR_STORE_VERIFY_FAILED when the read-back differs).
 */
export async function publishSparkExport(exportDir: string, store: OnlineStore, options: PublishSparkOptions = {}): Promise<PublishSparkReport> {
  const started = performance.now();
  const popularK = options.popularK ?? PUBLISH_DEFAULTS.popularK;
  const batchSize = options.batchSize ?? PUBLISH_DEFAULTS.batchSize;
  const activate = options.activate ?? true;
  const { sparkExport, precompute } = await readSparkPrecompute(exportDir);
  // The catalogue comes first: stored lists refer to items by their index in it.
  const items = await readSparkItems(join(exportDir, precompute.items));
  if (precompute.counts.items >= 0 && items.ids.length !== precompute.counts.items) {
    throw new RecError('RTREC_ERR_MODEL_CORRUPT', `${join(exportDir, precompute.items)}: ${items.ids.length} items, export.json says ${precompute.counts.items}`);
  }
  const indexOf = new Map<string, number>();
  items.ids.forEach((id, idx) => indexOf.set(id, idx));
  const numUsers = precompute.counts.userRecs >= 0 ? precompute.counts.userRecs : sparkExport.counts.users;
  const numSimilar = precompute.similarK > 0 ? items.ids.length : 0;

  const writer = await store.beginVersion({
    expected: { u: numUsers, s: numSimilar, p: 1, c: items.ids.length },
    meta: {
      modelType: sparkExport.model,
      engine: 'spark',
      source: 'spark-precompute',
      exportCreatedAt: (sparkExport as { createdAt?: string }).createdAt ?? null,
      sparkVersion: sparkExport.spark.version,
      numUsers,
      numItems: items.ids.length,
      topK: precompute.k,
      similarK: precompute.similarK,
      popularK,
    },
  });
  const bar = createProgress('publish-spark', numUsers + numSimilar, options.progress === undefined ? {} : { enabled: options.progress });
  const pipe = new OneInFlight();
  try {
    await pipe.write(() => writer.putPopular(topK(withoutUnseen(items.users), popularK)));
    await writeCatalog(items.ids, options.itemMetadata ?? null, writer, batchSize, pipe);
    let lists = 0;
    if (precompute.similarItems !== undefined && precompute.similarK > 0) {
      lists += await writeLists(readSparkLists(join(exportDir, precompute.similarItems), 'itemId'), indexOf, batchSize, pipe, (b) => writer.putSimilarItems(b), (n) => bar.tick(n));
    }
    lists += await writeLists(readSparkLists(join(exportDir, precompute.userRecs), 'userId'), indexOf, batchSize, pipe, (b) => writer.putUserRecs(b), (n) => bar.tick(n));
    await pipe.drain();
    const record = await writer.commit({ activate });
    bar.stop();
    const totalSeconds = (performance.now() - started) / 1000;
    return {
      version: record.version,
      activated: activate,
      store: store.description,
      counts: record.counts ?? { u: 0, s: 0, p: 0, c: 0 },
      topK: precompute.k,
      similarK: precompute.similarK,
      totalSeconds,
      listsPerSecond: totalSeconds > 0 ? lists / totalSeconds : 0,
    };
  } catch (err) {
    bar.stop();
    await pipe.drain().catch(() => undefined);
    await writer.abort(err instanceof Error ? err.message : String(err)).catch(() => undefined);
    throw err;
  }
}

/** Users per item with items nobody saw left out of the popularity list (as popularityFromSeen does). */
function withoutUnseen(users: Float64Array): Float64Array {
  return users.map((n) => (n > 0 ? n : -Infinity));
}

async function writeCatalog(ids: readonly string[], metadata: ItemMetadata | null, writer: VersionWriter, batchSize: number, pipe: OneInFlight): Promise<void> {
  for (let start = 0; start < ids.length; start += batchSize) {
    const batch: CatalogEntry[] = [];
    for (let idx = start; idx < Math.min(start + batchSize, ids.length); idx++) {
      batch.push({ idx, itemId: ids[idx], metadata: metadata?.byId.get(ids[idx]) ?? null });
    }
    await pipe.write(() => writer.putCatalog(batch));
  }
}

/** Converts streamed lines to stored lists in batches; returns how many lists were written. */
async function writeLists(
  lines: AsyncIterable<SparkListLine>,
  indexOf: ReadonlyMap<string, number>,
  batchSize: number,
  pipe: OneInFlight,
  put: (batch: readonly SubjectList[]) => Promise<void>,
  tick: (n?: number) => void,
): Promise<number> {
  let batch: SubjectList[] = [];
  let written = 0;
  const flush = async () => {
    const full = batch;
    batch = [];
    await pipe.write(() => put(full));
    tick(full.length);
    written += full.length;
  };
  for await (const line of lines) {
    batch.push({ subjectId: line.subjectId, ranked: toRanked(line, indexOf) });
    if (batch.length >= batchSize) await flush();
  }
  if (batch.length > 0) await flush();
  return written;
}

function toRanked(line: SparkListLine, indexOf: ReadonlyMap<string, number>): Ranked {
  const items = new Int32Array(line.itemIds.length);
  line.itemIds.forEach((id, j) => {
    const idx = indexOf.get(id);
    if (idx === undefined) {
      throw new RecError('RTREC_ERR_MODEL_CORRUPT', `${line.file}:${line.line}: item ${JSON.stringify(id)} is not in the export's item table`, {
        details: { file: line.file, line: line.line },
      });
    }
    items[j] = idx;
  });
  return { items, scores: Float32Array.from(line.scores) };
}

/** At most one store write in flight, so the next batch is parsed while the previous one is written. */
class OneInFlight {
  #pending: Promise<void> | undefined;

  async write(start: () => Promise<void>): Promise<void> {
    await this.drain();
    const p = start();
    // Rejections are observed in drain(); this keeps Node from reporting them as unhandled meanwhile.
    p.catch(() => undefined);
    this.#pending = p;
  }

  async drain(): Promise<void> {
    const p = this.#pending;
    this.#pending = undefined;
    await p;
  }
}
