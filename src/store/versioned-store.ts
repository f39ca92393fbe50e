/**
 * @module The versioned-publish protocol over any StoreBackend: begin (after cleaning up what failed
 * or was abandoned), write, verify, flip; activate, rollback, prune; and the version-scoped reads.
 * A writing version is abandoned when its writer process is gone (same host, pid not alive) or its
 * heartbeat is older than `staleWriterMs`; its partial data is removed by the next publish or prune.
 * Data no record points to (orphan-sweep.ts) is removed by prune only.
 */
import { isRecError, RecError } from '../core/errors.js';
import type { Ranked } from '../models/recommender.js';
import {
  COLLECTIONS,
  POPULAR_KEY,
  type BeginOptions,
  type Catalog,
  type CleanupResult,
  type CursorList,
  type ItemFields,
  type OnlineStore,
  DEFAULT_RETIRED_GRACE_MS,
  type PruneOptions,
  type PruneResult,
  type StoredList,
  type SubjectList,
  type VersionRecord,
  type VersionWriter,
} from './online-store.js';
import type { AppendOptions, AppendResult, ItemCounter, NewEvent, ScanOptions, StoredEvent, UserEventsPage } from './event-log.js';
import { decodeCatalogEntry, decodeRanked, encodeRanked, encodes } from './rec-codec.js';
import type { StoreBackend, VersionPlace } from './store-backend.js';
import { sweepOrphans } from './orphan-sweep.js';
import { BackendVersionWriter } from './version-writer.js';
import { ownWriterIdentity, writerGone } from './writer-identity.js';

export interface VersionedStoreOptions {
  /** A writing version whose heartbeat is older than this (ms) counts as abandoned. Default 60 s. */
  readonly staleWriterMs?: number;
}

export const DEFAULT_STALE_WRITER_MS = 60_000;

export class VersionedStore implements OnlineStore {
  readonly #backend: StoreBackend;
  readonly #staleWriterMs: number;
  /** Layouts of versions read so far: records of ready versions never change their layout. */
  readonly #places = new Map<number, VersionPlace>();
  /**
   * Versions whose lists a write found deleted (LMDB refuses such writes in the write transaction).
   * Only the write paths consult it: reads of a version a lagging server still serves keep its
   * place and answer what is left (nothing: the lists fall back to popular), rather than failing
   * with RTREC_ERR_STORE_VERSION_NOT_FOUND, which the server would take for a store failure (unready,
   * degraded answers) until it switches. Version numbers are never reused, so nothing leaves it.
   */
  readonly #gone = new Set<number>();

  constructor(backend: StoreBackend, options: VersionedStoreOptions = {}) {
    this.#backend = backend;
    this.#staleWriterMs = options.staleWriterMs ?? DEFAULT_STALE_WRITER_MS;
  }

  get description(): string {
    return this.#backend.description;
  }

  ping(): Promise<void> {
    return this.#backend.ping();
  }

  renewReadSnapshot(): void {
    this.#backend.renewReadSnapshot?.();
  }

  storeId(options: { readonly create?: boolean } = {}): Promise<string | undefined> {
    return this.#backend.storeId(options.create === true);
  }

  close(): Promise<void> {
    return this.#backend.close();
  }

  async listVersions(): Promise<VersionRecord[]> {
    const records = await this.#backend.readVersions();
    return records.sort((a, b) => a.version - b.version);
  }

  getVersion(version: number): Promise<VersionRecord | undefined> {
    return this.#backend.readVersion(version);
  }

  activeVersion(): Promise<number | null> {
    return this.#backend.readActive();
  }

  async beginVersion(options: BeginOptions): Promise<VersionWriter> {
    // Not the orphan sweep: on Redis it walks the whole keyspace, one key per user with events
    // included, and prune (which a retrain runs right after publishing) sweeps anyway.
    await this.#deleteDoomed();
    const layout = this.#backend.planLayout(options.expected);
    const now = Date.now();
    const record = await this.#backend.createVersion((version) => ({
      version,
      status: 'writing',
      createdAt: new Date(now).toISOString(),
      writer: ownWriterIdentity(),
      heartbeatAt: now,
      layout,
      meta: options.meta ?? {},
    }));
    return new BackendVersionWriter(this.#backend, record, {
      discard: (rec, reason) => this.#discard(rec, reason),
      activate: (v) => this.activate(v),
    });
  }

  async activate(version: number): Promise<VersionRecord> {
    const previous = await this.#backend.readActive();
    const res = await this.#backend.setActive(version);
    if (res === 'missing') throw new RecError('RTREC_ERR_STORE_VERSION_NOT_FOUND', `no version ${version} in ${this.description}`);
    const record = await this.#backend.readVersion(version);
    if (res === 'not-ready' || !record) {
      throw new RecError('RTREC_ERR_STORE_VERSION_NOT_READY', `version ${version} is ${record?.status ?? 'gone'}, only a ready version can be activated`);
    }
    if (previous !== null && previous !== version) await this.#markRetired(previous);
    return record;
  }

  /** Stamps retiredAt on a version that just stopped being active (only if it is ready and inactive). */
  async #markRetired(version: number): Promise<void> {
    const record = await this.#backend.readVersion(version);
    if (record?.status !== 'ready') return;
    await this.#backend.updateVersion({ ...record, retiredAt: Date.now() }, ['ready'], true);
  }

  async rollback(): Promise<{ from: number; to: number }> {
    const active = await this.activeVersion();
    if (active === null) throw new RecError('RTREC_ERR_STORE_NO_ACTIVE_VERSION', `nothing to roll back: ${this.description} has no active version`);
    // The version active before (the latest retired), among the older ready ones: after rolling
    // back from a bad version and publishing again, a rollback returns to the good one, not to the
    // bad one. Versions never active (or retired before retiredAt was recorded) come last, newest first.
    const older = (await this.listVersions()).filter((r) => r.status === 'ready' && r.version < active);
    const target = older.sort(byRecentlyActive)[0];
    if (!target) throw new RecError('RTREC_ERR_STORE_VERSION_NOT_FOUND', `no ready version older than the active version ${active} to roll back to`);
    await this.activate(target.version);
    return { from: active, to: target.version };
  }

  async prune(keep: number, options: PruneOptions = {}): Promise<PruneResult> {
    // At least 1: a publish marks its version ready, then activates it; keeping 0 ready versions
    // would delete a version caught between the two (its publish then fails).
    if (!Number.isInteger(keep) || keep < 1) throw new RecError('RTREC_ERR_CONFIG_INVALID', `prune keeps a whole number >= 1 of ready versions, got ${keep}`);
    const graceMs = options.retiredGraceMs ?? DEFAULT_RETIRED_GRACE_MS;
    if (!(graceMs >= 0)) throw new RecError('RTREC_ERR_CONFIG_INVALID', `prune's grace for retired versions must be >= 0 ms, got ${graceMs}`);
    const cleaned = await this.cleanup();
    const active = await this.activeVersion();
    const ready = (await this.listVersions()).filter((r) => r.status === 'ready').reverse();
    const kept = new Set(ready.slice(0, keep).map((r) => r.version));
    if (active !== null) kept.add(active);
    // A version retired moments ago may still be written into by servers not yet switched away:
    // deleting it now would make them fail their lists' updates (and, on Redis, leave those writes
    // behind as data no record points to, until the next prune sweeps it).
    const now = Date.now();
    for (const r of ready) if (r.retiredAt !== undefined && now - r.retiredAt < graceMs) kept.add(r.version);
    const deleted = [...cleaned.deleted];
    for (const record of ready) {
      if (kept.has(record.version)) continue;
      if (await this.#delete(record, ['ready'])) deleted.push(record.version);
    }
    const swept = cleaned.sweepError === undefined ? {} : { sweepError: cleaned.sweepError };
    return { deleted: deleted.sort((a, b) => a - b), kept: [...kept].sort((a, b) => a - b), orphans: cleaned.orphans, ...swept };
  }

  async cleanup(): Promise<CleanupResult> {
    const deleted = await this.#deleteDoomed();
    // After the deletions above, which clear their versions' data themselves. Best effort: data
    // left behind costs memory only, while a failure here would fail the prune (or publish) around it.
    try {
      return { deleted, orphans: await sweepOrphans(this.#backend) };
    } catch (err) {
      return { deleted, orphans: [], sweepError: err instanceof Error ? err.message : String(err) };
    }
  }

  /** Deletes failed, half-deleted and abandoned writing versions; returns their numbers, ascending. */
  async #deleteDoomed(): Promise<number[]> {
    const deleted: number[] = [];
    for (const record of await this.#backend.readVersions()) {
      const doomed = record.status === 'failed' || record.status === 'deleting' || (record.status === 'writing' && this.#abandoned(record));
      if (doomed && (await this.#delete(record, [record.status]))) deleted.push(record.version);
    }
    return deleted.sort((a, b) => a - b);
  }

  getUserRecs(version: number, userId: string, previous?: StoredList): Promise<StoredList | undefined> {
    return this.#readRanked(version, COLLECTIONS.userRecs, userId, previous);
  }

  async putUserRecs(version: number, userId: string, ranked: StoredList): Promise<void> {
    await this.putUserRecsBatch(version, [{ subjectId: userId, ranked }]);
  }

  async putUserRecsBatch(version: number, lists: readonly SubjectList[]): Promise<void> {
    const place = await this.#readyPlace(version);
    if (lists.length === 0) return;
    await this.#noteIfGone(version, this.#backend.writeEntries(place, COLLECTIONS.userRecs, lists.map((l) => ({ key: l.subjectId, value: encodeRanked(l.ranked) }))));
  }

  async putUserRecsIfCurrent(version: number, lists: readonly CursorList[]): Promise<ReadonlySet<string>> {
    const place = await this.#readyPlace(version);
    if (lists.length === 0) return new Set();
    const entries = lists.map((l) => ({ key: l.subjectId, value: encodeRanked(l.ranked), cursor: l.cursor }));
    return new Set(await this.#noteIfGone(version, this.#backend.writeUserListsIfCurrent(place, entries)));
  }

  /**
   * `write`'s outcome; when the backend refused it because the version was deleted meanwhile (LMDB
   * checks in the write transaction), the version is noted as gone, so later writes into it fail at
   * once (RTREC_ERR_STORE_VERSION_NOT_FOUND) or log events without lists instead of trying again.
   * Its place is kept for reads (see #gone).
   */
  async #noteIfGone<T>(version: number, write: Promise<T>): Promise<T> {
    try {
      return await write;
    } catch (err) {
      if (isRecError(err) && err.code === 'RTREC_ERR_STORE_VERSION_NOT_FOUND') this.#gone.add(version);
      throw err;
    }
  }

  /** Where ready version `version` lives (only a ready version's lists are updated in place). */
  async #readyPlace(version: number): Promise<VersionPlace> {
    if (this.#gone.has(version)) {
      throw new RecError('RTREC_ERR_STORE_VERSION_NOT_FOUND', `version ${version} of ${this.description} was deleted (a write into it was refused): its lists are no longer updated`);
    }
    const place = this.#places.get(version) ?? (await this.#place(version));
    if (!this.#places.has(version)) {
      throw new RecError('RTREC_ERR_STORE_VERSION_NOT_READY', `version ${version} is not ready; only a ready version's lists can be updated`);
    }
    return place;
  }

  get writesListsWithEvents(): boolean {
    return this.#backend.writesListsWithEvents;
  }

  async appendEvents(events: readonly NewEvent[], options: AppendOptions = {}): Promise<AppendResult[]> {
    const { lists, ...rest } = options;
    if (!lists || lists.users.size === 0 || !this.#backend.writesListsWithEvents) return this.#backend.appendEvents(events, rest);
    // Lists go only into a ready version; otherwise (or when a write found it deleted) the events
    // are logged alone (the caller then writes the lists itself and gets putUserRecs's error).
    if (this.#gone.has(lists.version)) return this.#backend.appendEvents(events, rest);
    let place = this.#places.get(lists.version);
    if (!place) {
      try {
        await this.#place(lists.version);
      } catch {
        // not found: append without lists
      }
      place = this.#places.get(lists.version);
      if (!place) return this.#backend.appendEvents(events, rest);
    }
    const users = new Map<string, { cursor: string; value: Buffer }>();
    for (const [userId, list] of lists.users) users.set(userId, { cursor: list.cursor, value: encodeRanked(list.ranked) });
    return this.#backend.appendEvents(events, { ...rest, lists: { place, users } });
  }

  userEvents(userId: string): Promise<StoredEvent[]> {
    return this.#backend.userEvents(userId);
  }

  userEventsAfter(userId: string, cursor?: string): Promise<UserEventsPage> {
    return this.#backend.userEventsAfter(userId, cursor);
  }

  eventUsers(): Promise<string[]> {
    return this.#backend.eventUsers();
  }

  scanEvents(options?: ScanOptions): AsyncIterable<StoredEvent> {
    return this.#backend.scanEvents(options);
  }

  addItemCounters(bucket: string, amounts: ReadonlyMap<string, number>, keepMs: number): Promise<void> {
    return this.#backend.addItemCounters(bucket, amounts, keepMs);
  }

  topItemCounters(bucket: string, limit: number): Promise<ItemCounter[]> {
    return this.#backend.topItemCounters(bucket, limit);
  }

  getSimilarItems(version: number, itemId: string, previous?: Ranked): Promise<Ranked | undefined> {
    return this.#readRanked(version, COLLECTIONS.similarItems, itemId, previous);
  }

  getPopular(version: number): Promise<Ranked | undefined> {
    return this.#readRanked(version, COLLECTIONS.popular, POPULAR_KEY);
  }

  async readCatalog(version: number): Promise<Catalog> {
    const place = await this.#place(version);
    const values = await this.#backend.readAllValues(place, COLLECTIONS.catalog);
    const ids: string[] = new Array<string>(values.length);
    const metadata: (ItemFields | null)[] = new Array<ItemFields | null>(values.length).fill(null);
    for (const value of values) {
      const entry = decodeCatalogEntry(value, `catalogue of version ${version}`);
      if (entry.idx >= values.length || ids[entry.idx] !== undefined) {
        throw new RecError('RTREC_ERR_STORE_CORRUPT', `catalogue of version ${version}: item index ${entry.idx} is out of range or repeated`);
      }
      ids[entry.idx] = entry.itemId;
      metadata[entry.idx] = entry.metadata;
    }
    return { ids, metadata };
  }

  /**
   * Not an async function, on purpose: on the serving path each async layer that returns a promise
   * adds microtask turns per request. Errors still arrive as rejections.
   */
  #readRanked(version: number, collection: (typeof COLLECTIONS)[keyof typeof COLLECTIONS], key: string, previous?: StoredList): Promise<StoredList | undefined> {
    const decode = (bytes: Uint8Array) =>
      previous !== undefined && encodes(bytes, previous) ? previous : decodeRanked(bytes, () => `${collection}/${key} of version ${version}`);
    const place = this.#places.get(version);
    if (!place) return this.#place(version).then((p) => this.#backend.readEntry(p, collection, key, decode));
    try {
      return this.#backend.readEntry(place, collection, key, decode);
    } catch (err) {
      // A backend refusing synchronously (e.g. a closed store) still fails the promise.
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  async #place(version: number): Promise<VersionPlace> {
    const known = this.#places.get(version);
    if (known) return known;
    const record = await this.#backend.readVersion(version);
    if (!record) throw new RecError('RTREC_ERR_STORE_VERSION_NOT_FOUND', `no version ${version} in ${this.description}`);
    const place = { version, layout: record.layout };
    if (record.status === 'ready') this.#places.set(version, place);
    return place;
  }

  #abandoned(record: VersionRecord): boolean {
    if (Date.now() - record.heartbeatAt > this.#staleWriterMs) return true;
    return writerGone(record.writer, ownWriterIdentity(), pidAlive) ?? false;
  }

  async #discard(record: VersionRecord, reason: string): Promise<void> {
    const failed: VersionRecord = { ...record, status: 'failed', error: reason, heartbeatAt: Date.now() };
    if ((await this.#backend.updateVersion(failed, ['writing'], true)) !== 'ok') return;
    try {
      await this.#delete(failed, ['failed']);
    } catch {
      // The record stays 'failed'; the next publish's cleanup deletes it.
    }
  }

  /** Marks the record deleting (unless it is active), deletes its data, then the record. */
  async #delete(record: VersionRecord, from: readonly VersionRecord['status'][]): Promise<boolean> {
    const marked: VersionRecord = { ...record, status: 'deleting', heartbeatAt: Date.now() };
    const res = await this.#backend.updateVersion(marked, [...from, 'deleting'], true);
    if (res !== 'ok') return false;
    this.#places.delete(record.version);
    await this.#backend.deleteData(record);
    return (await this.#backend.removeVersion(record.version)) === 'ok';
  }
}

/** Most recently retired first; versions never retired after them, newest first. */
function byRecentlyActive(a: VersionRecord, b: VersionRecord): number {
  return (b.retiredAt ?? -1) - (a.retiredAt ?? -1) || b.version - a.version;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
