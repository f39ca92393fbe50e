/**
 * @module Writing one version: batches go straight to the backend, while the writer tallies entries
 * per collection and keeps a digest of a deterministic sample of them. commit() then proves the
 * version is complete by counting what the store holds and reading the sample back, and only then
 * marks it ready and flips the active pointer.
 */
import { createHash } from 'node:crypto';
import { isRecError, RecError } from '../core/errors.js';
import type { Ranked } from '../models/recommender.js';
import {
  ALL_COLLECTIONS,
  COLLECTIONS,
  POPULAR_KEY,
  type CatalogEntry,
  type Collection,
  type SubjectList,
  type VersionCounts,
  type VersionRecord,
  type VersionWriter,
} from './online-store.js';
import { encodeCatalogEntry, encodeRanked, fnv1a32 } from './rec-codec.js';
import type { DataEntry, StoreBackend } from './store-backend.js';

/** Entries always sampled, then about one in SAMPLE_EVERY, up to SAMPLE_MAX. */
const SAMPLE_FIRST = 32;
const SAMPLE_EVERY = 64;
const SAMPLE_MAX = 2048;
/** How often a long write refreshes the record's heartbeat, in ms. */
export const HEARTBEAT_MS = 5_000;

interface Sample {
  readonly collection: Collection;
  readonly key: string;
  readonly value: Buffer;
}

export interface WriterHooks {
  /** Deletes the version's data and record after a failure (VersionedStore owns deletion). */
  discard(record: VersionRecord, reason: string): Promise<void>;
  /** Activates a version that just became ready. */
  activate(version: number): Promise<VersionRecord>;
}

export class BackendVersionWriter implements VersionWriter {
  readonly #backend: StoreBackend;
  readonly #hooks: WriterHooks;
  #record: VersionRecord;
  readonly #counts: Record<Collection, number> = { u: 0, s: 0, p: 0, c: 0 };
  readonly #samples: Sample[] = [];
  #state: 'open' | 'committed' | 'aborted' = 'open';
  #lastBeat = Date.now();

  constructor(backend: StoreBackend, record: VersionRecord, hooks: WriterHooks) {
    this.#backend = backend;
    this.#record = record;
    this.#hooks = hooks;
  }

  get version(): number {
    return this.#record.version;
  }

  putUserRecs(batch: readonly SubjectList[]): Promise<void> {
    return this.#write(COLLECTIONS.userRecs, batch.map((e) => ({ key: e.subjectId, value: encodeRanked(e.ranked) })));
  }

  putSimilarItems(batch: readonly SubjectList[]): Promise<void> {
    return this.#write(COLLECTIONS.similarItems, batch.map((e) => ({ key: e.subjectId, value: encodeRanked(e.ranked) })));
  }

  putPopular(ranked: Ranked): Promise<void> {
    return this.#write(COLLECTIONS.popular, [{ key: POPULAR_KEY, value: encodeRanked(ranked) }]);
  }

  putCatalog(batch: readonly CatalogEntry[]): Promise<void> {
    return this.#write(COLLECTIONS.catalog, batch.map((e) => ({ key: String(e.idx), value: encodeCatalogEntry(e) })));
  }

  async commit(options: { activate?: boolean } = {}): Promise<VersionRecord> {
    this.#ensureOpen();
    const counts = { ...this.#counts } as VersionCounts;
    const problem = await this.#verify(counts);
    if (problem !== undefined) {
      await this.abort(`verification failed: ${problem}`);
      throw new RecError('RTREC_ERR_STORE_VERIFY_FAILED', `version ${this.version} did not read back as written (${problem}); it was discarded and the active version is unchanged`);
    }
    const ready: VersionRecord = {
      ...this.#record,
      status: 'ready',
      readyAt: new Date().toISOString(),
      heartbeatAt: Date.now(),
      counts,
      checksum: this.#sampleDigest(this.#samples.map((s) => s.value)),
    };
    const res = await this.#backend.updateVersion(ready, ['writing'], false);
    if (res !== 'ok') {
      this.#state = 'aborted';
      throw removedWhileWriting(this.version);
    }
    this.#state = 'committed';
    this.#record = ready;
    if (options.activate ?? true) return this.#hooks.activate(this.version);
    return ready;
  }

  async abort(reason: string): Promise<void> {
    if (this.#state !== 'open') return;
    this.#state = 'aborted';
    await this.#hooks.discard(this.#record, reason);
  }

  async #write(collection: Collection, entries: readonly DataEntry[]): Promise<void> {
    this.#ensureOpen();
    if (entries.length === 0) return;
    for (const e of entries) {
      if (this.#samples.length < SAMPLE_MAX && (this.#samples.length < SAMPLE_FIRST || fnv1a32(e.key) % SAMPLE_EVERY === 0)) {
        this.#samples.push({ collection, key: e.key, value: e.value });
      }
    }
    try {
      await this.#backend.writeEntries(this.#record, collection, entries);
    } catch (err) {
      // LMDB refuses, in the write itself, data for a version no longer being written.
      if (!isRecError(err) || (err.code !== 'RTREC_ERR_STORE_VERSION_NOT_FOUND' && err.code !== 'RTREC_ERR_STORE_VERSION_NOT_READY')) throw err;
      this.#state = 'aborted';
      throw removedWhileWriting(this.version, err);
    }
    this.#counts[collection] += entries.length;
    if (Date.now() - this.#lastBeat >= HEARTBEAT_MS) await this.#heartbeat();
  }

  async #heartbeat(): Promise<void> {
    this.#lastBeat = Date.now();
    const beat: VersionRecord = { ...this.#record, heartbeatAt: this.#lastBeat };
    const res = await this.#backend.updateVersion(beat, ['writing'], false);
    if (res !== 'ok') {
      this.#state = 'aborted';
      throw removedWhileWriting(this.version);
    }
    this.#record = beat;
  }

  /** Returns a description of the first difference, or undefined when the store holds what was written. */
  async #verify(counts: VersionCounts): Promise<string | undefined> {
    for (const c of ALL_COLLECTIONS) {
      const stored = await this.#backend.countEntries(this.#record, c);
      if (stored !== counts[c]) return `collection ${c} holds ${stored} entries, ${counts[c]} were written`;
    }
    const readBack = await Promise.all(this.#samples.map((s) => this.#backend.readEntry(this.#record, s.collection, s.key, (bytes) => Buffer.from(bytes))));
    const missing = readBack.findIndex((v) => v === undefined);
    if (missing >= 0) return `entry ${this.#samples[missing].collection}/${this.#samples[missing].key} is missing`;
    const expected = this.#sampleDigest(this.#samples.map((s) => s.value));
    const actual = this.#sampleDigest(readBack as Buffer[]);
    if (expected !== actual) return `checksum of ${this.#samples.length} sampled entries differs`;
    return undefined;
  }

  #sampleDigest(values: readonly Buffer[]): string {
    const h = createHash('sha256');
    this.#samples.forEach((s, j) => {
      h.update(`${s.collection}\0${s.key}\0${values[j].length}\0`);
      h.update(values[j]);
    });
    return h.digest('hex');
  }

  #ensureOpen(): void {
    if (this.#state !== 'open') {
      throw new RecError('RTREC_ERR_STORE_VERSION_NOT_READY', `version ${this.version} is already ${this.#state === 'committed' ? 'committed' : 'aborted'}; begin a new version`);
    }
  }
}

function removedWhileWriting(version: number, cause?: unknown): RecError {
  return new RecError('RTREC_ERR_STORE_VERSION_NOT_READY', `version ${version} was removed by another process while being written (treated as abandoned); publish again`, { cause });
}
