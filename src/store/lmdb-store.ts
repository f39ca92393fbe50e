/**
 * @module The embedded online store: one LMDB environment in a folder (`lmdb:///abs/path`), no
 * server. Readers in any number of processes see a consistent snapshot per read; the control records
 * change in synchronous write transactions (LMDB serialises writers across processes), and each data
 * batch is written by one lmdb-js `transaction()` callback (asynchronous; callbacks issued in one
 * event-loop turn share a commit) that first checks the version's record is live (versionLive),
 * then puts the batch's entries.
 *
 * Layout: database `control` (JSON) holds `active`, `seq`, `storeId` (the store's identity, see
 * OnlineStore.storeId) and `['v', n]` → VersionRecord; database
 * `data` (binary) holds `[version, collection, key]` → encoded value, so one version is one key range.
 * Data is written into a version only in a write transaction that finds its record live (writing or
 * ready; see versionLive), so once a deletion has marked the record, nothing can add to the range
 * it then clears: no data outlives its record (orphan data), whatever still holds the version's place.
 * Database `events` (JSON, outside versions) holds the event log: `seq` (counter), `['e', seq]` →
 * event, `['i', eventId]` → seq (idempotency), `['u', userId, seq]` → event (per-user reads) and
 * `['n', userId]` → 1 (users with events), `['l', userId]` → seq of the user's last event (the user
 * cursor of `userEventsAfter` is a seq). An append resolves once its transaction is committed
 * (option `sync: 'fsync'`: once it is flushed to disk too). Its transaction body is in
 * lmdb-event-txn.ts; with `appendThread` (the server) it runs on a worker thread, not the event loop.
 * Item counters live there too: `['pc', bucket + US + itemId]` → number (US = \u001f, so one bucket
 * is one key range), and, so that the largest can be read without scanning every item, an index
 * ordered by value: `['pt', bucket, value, itemId]` → 0, kept in step with each add, and
 * `['pi', bucket]` → 1 once every counter of the bucket is indexed (buckets written before the index
 * existed are indexed in the transaction of their next add; until then they are read by a scan).
 * Old buckets are not dropped (`keepMs` is ignored): one per bucket period, each at most one number
 * (and one index entry) per item.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import { LMDB_ENV_OPTIONS } from './lmdb-env-options.js';
import { clearVersionRange, collectionRange, dataVersionNumbers, notWritable } from './lmdb-version-data.js';
import { RecError } from '../core/errors.js';
import { resolveWorkerEntry } from '../math/worker-pool.js';
import { byCounterValue, decodeEvent, type AppendResult, type ItemCounter, type NewEvent, type ScanOptions, type StoredEvent, type UserEventsPage } from './event-log.js';
import { startAppendThread, type AppendThread } from './lmdb-append-thread.js';
import { watchVisibleCommits, type VisibleCommits } from './lmdb-visible-commit.js';
import { addCounter, runAppend, scanCounters, unpackAppend, versionLive, writeListsIfCurrent, SEQ, type ControlKey, type DataKey, type EventDbs, type EventKey, type TxnAppendOptions } from './lmdb-event-txn.js';
import { COLLECTIONS, type Collection, type VersionRecord, type VersionStatus } from './online-store.js';
import type { BackendAppendOptions, CursorEntry, DataEntry, DataScan, SetActiveResult, StoreBackend, UpdateResult, VersionPlace } from './store-backend.js';
import { VersionedStore, type VersionedStoreOptions } from './versioned-store.js';

const ENV_FILE = 'rtrec.mdb';
const ACTIVE = 'active';
/** Control key of the store's identity (see OnlineStore.storeId). */
const STORE_ID = 'storeId';

export interface LmdbStoreOptions extends VersionedStoreOptions {
  /**
   * Event appends run on a worker thread (lmdb-append-thread.ts) instead of the event loop: for
   * servers, whose reads would otherwise wait for each group's transaction. The thread starts with the
   * first append. Default false.
   */
  readonly appendThread?: boolean;
  /**
   * With `appendThread`: appends of at most this many events run on the calling thread instead when
   * the append thread holds none. For a caller that is itself off the event loop (the event-ingest
   * thread), a small append then skips the trip to the append thread and back; larger ones, and any
   * arriving while the thread is busy, keep it, so that under load the next group is planned while
   * the previous one commits. Default 0 (every append takes the thread).
   */
  readonly inlineAppendsUpTo?: number;
  /** The compiled append worker; default lmdb-append-worker.js beside this module (null: none, append inline). */
  readonly appendThreadEntry?: URL | null;
  /** Told why appends moved back to the event loop. */
  readonly onAppendFallback?: (reason: string) => void;
  /**
   * Told when a commit failed to flush to disk after its appends were answered (they were answered
   * once visible, see lmdb-visible-commit.ts: they stay logged unless the machine loses power).
   */
  readonly onFlushError?: (reason: string) => void;
  /**
   * Refuse a folder that holds no store instead of creating one: for commands that only read or
   * manage what was published, where a mistyped path would otherwise answer as an empty new store.
   */
  readonly mustExist?: boolean;
}

/** Opens (creating when missing) the LMDB store in folder `dir`. */
export function openLmdbStore(dir: string, options: LmdbStoreOptions = {}): VersionedStore {
  return new VersionedStore(new LmdbBackend(dir, options), options);
}

class LmdbBackend implements StoreBackend {
  readonly description: string;
  readonly writesListsWithEvents = true;
  readonly #env: RootDatabase;
  readonly #control: Database<unknown, ControlKey>;
  readonly #data: Database<Buffer, DataKey>;
  readonly #events: Database<unknown, EventKey>;
  readonly #dbs: EventDbs;
  /** Starts the append thread; set while it has not been started (it starts with the first append). */
  #startThread: (() => AppendThread) | undefined;
  #thread: AppendThread | undefined;
  /** Answers appends on the event loop once visible (lmdb-visible-commit.ts). */
  #visible: VisibleCommits | undefined;
  readonly #onFlushError: ((reason: string) => void) | undefined;
  readonly #inlineAppendsUpTo: number;
  /** Appends headed for the append thread and not answered yet (some may wait for inline ones first). */
  #toThread = 0;
  /** Settles once every inline append made so far is answered; undefined when none is in flight. */
  #inlineTail: Promise<void> | undefined;
  #closed = false;

  constructor(dir: string, options: LmdbStoreOptions = {}) {
    this.description = `lmdb://${dir}`;
    if (options.mustExist && !existsSync(join(dir, ENV_FILE))) {
      throw new RecError('RTREC_ERR_STORE_UNAVAILABLE', `no LMDB store in ${dir} (nothing was published there): check --store or RTREC_STORE`);
    }
    try {
      mkdirSync(dir, { recursive: true });
      this.#env = open({ path: join(dir, ENV_FILE), ...LMDB_ENV_OPTIONS });
      this.#control = this.#env.openDB<unknown, ControlKey>({ name: 'control', encoding: 'json' });
      this.#data = this.#env.openDB<Buffer, DataKey>({ name: 'data', encoding: 'binary' });
      this.#events = this.#env.openDB<unknown, EventKey>({ name: 'events', encoding: 'json' });
    } catch (err) {
      throw new RecError('RTREC_ERR_STORE_UNAVAILABLE', `cannot open the LMDB store in ${dir}: ${(err as Error).message}`, { cause: err });
    }
    this.#dbs = { events: this.#events, data: this.#data, control: this.#control };
    this.#visible = watchVisibleCommits(this.#env);
    this.#onFlushError = options.onFlushError;
    this.#inlineAppendsUpTo = options.inlineAppendsUpTo ?? 0;
    const entry = options.appendThreadEntry === undefined ? resolveWorkerEntry('./lmdb-append-worker.js', import.meta.url) : options.appendThreadEntry;
    if (options.appendThread && entry) {
      // Started on the first append: a server that only reads never holds the thread.
      this.#startThread = () =>
        startAppendThread({
          path: join(dir, ENV_FILE),
          entry,
          afterCommit: () => this.#env.resetReadTxn(),
          ...(options.onAppendFallback ? { onFallback: options.onAppendFallback } : {}),
          ...(options.onFlushError ? { onFlushError: options.onFlushError } : {}),
        });
    } else if (options.appendThread) {
      options.onAppendFallback?.('the LMDB append thread has no compiled entry (running from sources), appending on the event loop');
    }
  }

  ping(): Promise<void> {
    this.#ensureOpen();
    return Promise.resolve();
  }

  renewReadSnapshot(): void {
    if (!this.#closed) this.#env.resetReadTxn();
  }

  storeId(create: boolean): Promise<string | undefined> {
    this.#ensureOpen();
    this.#env.resetReadTxn();
    const have = this.#control.get(STORE_ID);
    if (typeof have === 'string' || !create) return Promise.resolve(typeof have === 'string' ? have : undefined);
    // Another process may create it at the same moment: the transaction keeps the first.
    const id = this.#control.transactionSync(() => {
      const now = this.#control.get(STORE_ID);
      if (typeof now === 'string') return now;
      const fresh = randomUUID();
      this.#control.putSync(STORE_ID, fresh);
      return fresh;
    });
    return Promise.resolve(id);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#startThread = undefined;
    // Appends in flight commit before the environment closes: those made here beside the thread first
    // (appends for the thread wait for them, then queue there ahead of the close), then the thread's,
    // then any that ran here after all because the thread stopped.
    await this.#inlineAppendsDone();
    await this.#thread?.close();
    await this.#inlineAppendsDone();
    await this.#env.close();
  }

  readActive(): Promise<number | null> {
    this.#ensureOpen();
    // lmdb-js renews its read snapshot once per event-loop turn; control reads must see the latest.
    this.#env.resetReadTxn();
    const v = this.#control.get(ACTIVE);
    return Promise.resolve(typeof v === 'number' ? v : null);
  }

  readVersions(): Promise<VersionRecord[]> {
    this.#ensureOpen();
    this.#env.resetReadTxn();
    const out: VersionRecord[] = [];
    for (const { value } of this.#control.getRange({ start: ['v'], end: ['w'] })) out.push(value as VersionRecord);
    return Promise.resolve(out);
  }

  readVersion(version: number): Promise<VersionRecord | undefined> {
    this.#ensureOpen();
    this.#env.resetReadTxn();
    return Promise.resolve(this.#control.get(['v', version]) as VersionRecord | undefined);
  }

  createVersion(build: (version: number) => VersionRecord): Promise<VersionRecord> {
    this.#ensureOpen();
    const record = this.#control.transactionSync(() => {
      const seq = ((this.#control.get(SEQ) as number | undefined) ?? 0) + 1;
      const rec = build(seq);
      this.#control.putSync(SEQ, seq);
      this.#control.putSync(['v', seq], rec);
      return rec;
    });
    return Promise.resolve(record);
  }

  updateVersion(record: VersionRecord, from: readonly VersionStatus[], refuseActive: boolean): Promise<UpdateResult> {
    this.#ensureOpen();
    const res = this.#control.transactionSync((): UpdateResult => {
      const cur = this.#control.get(['v', record.version]) as VersionRecord | undefined;
      if (!cur) return 'missing';
      if (!from.includes(cur.status)) return 'conflict';
      if (refuseActive && this.#control.get(ACTIVE) === record.version) return 'active';
      this.#control.putSync(['v', record.version], record);
      return 'ok';
    });
    return Promise.resolve(res);
  }

  setActive(version: number): Promise<SetActiveResult> {
    this.#ensureOpen();
    const res = this.#control.transactionSync((): SetActiveResult => {
      const cur = this.#control.get(['v', version]) as VersionRecord | undefined;
      if (!cur) return 'missing';
      if (cur.status !== 'ready') return 'not-ready';
      this.#control.putSync(ACTIVE, version);
      return 'ok';
    });
    return Promise.resolve(res);
  }

  removeVersion(version: number): Promise<UpdateResult> {
    this.#ensureOpen();
    const res = this.#control.transactionSync((): UpdateResult => {
      if (this.#control.get(ACTIVE) === version) return 'active';
      this.#control.removeSync(['v', version]);
      return 'ok';
    });
    return Promise.resolve(res);
  }

  planLayout(): Readonly<Record<string, number>> {
    return {};
  }

  async writeEntries(place: VersionPlace, collection: Collection, entries: readonly DataEntry[]): Promise<void> {
    this.#ensureOpen();
    if (entries.length === 0) return;
    // One write transaction (lmdb-js runs transactions issued in one event turn in one batch), which
    // writes only into a live version: see versionLive.
    const check = await this.#data.transaction(() => {
      const found = versionLive(this.#control, place.version);
      if (found.live) for (const e of entries) void this.#data.put([place.version, collection, e.key], e.value);
      return found;
    });
    if (!check.live) throw notWritable(place.version, check.status, this.description);
  }

  async writeUserListsIfCurrent(place: VersionPlace, entries: readonly CursorEntry[]): Promise<string[]> {
    this.#ensureOpen();
    // The same checks as an append with lists, in one write transaction (serialised with appends,
    // those of the append thread and of other processes included).
    const res = await this.#events.transaction(() => writeListsIfCurrent(this.#dbs, place.version, COLLECTIONS.userRecs, entries));
    if (!Array.isArray(res)) throw notWritable(place.version, res.status, this.description);
    return res;
  }

  readEntry<T>(place: VersionPlace, collection: Collection, key: string, decode: (bytes: Uint8Array) => T): Promise<T | undefined> {
    this.#ensureOpen();
    // getBinaryFast returns lmdb-js's read buffer, valid until the next read: decoded right here, it
    // saves a copy per read (about 1 µs of a 2 µs read, measured on ranked lists of 100 entries).
    // That buffer is larger than the value, with `length` overridden to the value's size, which typed
    // array methods ignore: hand out a view of exactly the value.
    const bytes = this.#data.getBinaryFast([place.version, collection, key]);
    return Promise.resolve(bytes === undefined ? undefined : decode(bytes.subarray(0, bytes.length)));
  }

  countEntries(place: VersionPlace, collection: Collection): Promise<number> {
    this.#ensureOpen();
    this.#env.resetReadTxn();
    return Promise.resolve(this.#data.getKeysCount(collectionRange(place.version, collection)));
  }

  readAllValues(place: VersionPlace, collection: Collection): Promise<Buffer[]> {
    this.#ensureOpen();
    this.#env.resetReadTxn();
    const out: Buffer[] = [];
    for (const { value } of this.#data.getRange(collectionRange(place.version, collection))) out.push(value);
    return Promise.resolve(out);
  }

  deleteData(place: VersionPlace): Promise<void> {
    this.#ensureOpen();
    // The record was just marked deleting: from now on no write adds to the range (versionLive).
    this.#env.resetReadTxn();
    clearVersionRange(this.#data, place.version);
    return Promise.resolve();
  }

  scanData(): Promise<DataScan> {
    this.#ensureOpen();
    this.#env.resetReadTxn();
    const versions = dataVersionNumbers(this.#data);
    const deleteVersions = (numbers: readonly number[]): Promise<void> => {
      this.#ensureOpen();
      // Nothing can be added under a number without a record (versionLive): one pass clears it.
      this.#env.resetReadTxn();
      for (const v of numbers) clearVersionRange(this.#data, v);
      return Promise.resolve();
    };
    return Promise.resolve({ versions, deleteVersions });
  }

  async appendEvents(events: readonly NewEvent[], options: BackendAppendOptions = {}): Promise<AppendResult[]> {
    this.#ensureOpen();
    const lists = options.lists;
    const txn: TxnAppendOptions = {
      ...(options.counters ? { counterAdds: options.counters.adds } : {}),
      ...(lists ? { lists: { version: lists.place.version, collection: COLLECTIONS.userRecs, users: lists.users } } : {}),
    };
    const fsync = options.sync === 'fsync';
    if (this.#startThread) {
      this.#thread = this.#startThread();
      this.#startThread = undefined;
    }
    const thread = this.#thread;
    if (thread && (await thread.ready) && thread.usable && !(events.length <= this.#inlineAppendsUpTo && this.#toThread === 0)) {
      // Appends commit in the order they were made: one for the thread first lets the inline ones
      // made before it finish (none starts meanwhile, as #toThread > 0), then queues on the thread
      // (or runs here after all, should the thread have stopped meanwhile).
      this.#toThread++;
      try {
        await this.#inlineAppendsDone();
        if (thread.usable) return unpackAppend(events, await thread.append(events, txn, fsync));
      } finally {
        this.#toThread--;
      }
    }
    // The thread's transaction, on the calling thread: concurrent appends share one commit (group
    // commit), the event loop never waits for the disk, and the append is answered at commit
    // (visible to all processes, and kept when this process is killed: with overlappingSync the
    // flush runs behind the commit, and a restart on the same boot reopens at the last commit).
    const { answered } = runAppend(this.#dbs, events, txn, { fsync, visible: this.#visible, onFlushError: this.#onFlushError });
    if (thread) this.#trackInline(answered);
    return unpackAppend(events, await answered);
  }

  /** Resolves once no inline append is in flight (including ones made while waiting). */
  async #inlineAppendsDone(): Promise<void> {
    while (this.#inlineTail) await this.#inlineTail;
  }

  /** Extends #inlineTail with an inline append's answer (settled either way). */
  #trackInline(answered: Promise<unknown>): void {
    const settled = answered.then(
      () => undefined,
      () => undefined,
    );
    const tail = Promise.all([this.#inlineTail, settled]).then(() => undefined);
    this.#inlineTail = tail;
    void tail.then(() => {
      if (this.#inlineTail === tail) this.#inlineTail = undefined;
    });
  }

  userEvents(userId: string): Promise<StoredEvent[]> {
    this.#ensureOpen();
    this.#env.resetReadTxn();
    return Promise.resolve(this.#userEventsFrom(userId, 1).events);
  }

  userEventsAfter(userId: string, cursor?: string): Promise<UserEventsPage> {
    this.#ensureOpen();
    this.#env.resetReadTxn();
    // The cursor is the last seq seen: seqs are assigned in serialised write transactions, so every
    // event logged later has a larger seq. A cursor past the log's end means the log was replaced.
    const after = cursor === undefined ? 0 : Number(cursor);
    const last = (this.#events.get(SEQ) as number | undefined) ?? 0;
    const page = this.#userEventsFrom(userId, Number.isSafeInteger(after) && after <= last ? after + 1 : 1);
    return Promise.resolve(page);
  }

  #userEventsFrom(userId: string, fromSeq: number): UserEventsPage {
    const events: StoredEvent[] = [];
    let cursor = fromSeq - 1;
    for (const { key, value } of this.#events.getRange({ start: ['u', userId, fromSeq], end: ['u', userId, Infinity] })) {
      cursor = (key as [string, string, number])[2];
      events.push(decodeEvent(value as string, String(cursor)));
    }
    return { events, cursor: String(cursor) };
  }

  eventUsers(): Promise<string[]> {
    this.#ensureOpen();
    this.#env.resetReadTxn();
    const out: string[] = [];
    for (const key of this.#events.getKeys({ start: ['n'], end: ['o'] })) out.push((key as [string, string])[1]);
    return Promise.resolve(out);
  }

  async *scanEvents(options: ScanOptions = {}): AsyncIterable<StoredEvent> {
    this.#ensureOpen();
    const pageSize = options.pageSize ?? 1_000;
    let after = 0;
    for (;;) {
      this.#env.resetReadTxn();
      const page = [...this.#events.getRange({ start: ['e', after + 1], end: ['e', Infinity], limit: pageSize })];
      if (page.length === 0) return;
      for (const { key, value } of page) {
        after = (key as [string, number])[1];
        const e = decodeEvent(value as string, String(after));
        if (options.sinceTs === undefined || e.ts >= options.sinceTs) yield e;
      }
      await Promise.resolve();
    }
  }

  async addItemCounters(bucket: string, amounts: ReadonlyMap<string, number>): Promise<void> {
    this.#ensureOpen();
    // Read-modify-write inside one write transaction: LMDB serialises writers across processes.
    await this.#events.transaction(() => {
      const indexed = new Set<string>();
      for (const [itemId, amount] of amounts) addCounter(this.#events, bucket, itemId, amount, indexed);
    });
  }

  topItemCounters(bucket: string, limit: number): Promise<ItemCounter[]> {
    this.#ensureOpen();
    this.#env.resetReadTxn();
    if (limit <= 0) return Promise.resolve([]);
    if (this.#events.get(['pi', bucket]) === undefined) return Promise.resolve([...scanCounters(this.#events, bucket)].sort(byCounterValue).slice(0, limit));
    // Largest value first. Equal values come out by descending item id, so the entries tied with
    // the limit-th are all read and the tie is ordered by ascending id, as the scan would.
    const out: ItemCounter[] = [];
    for (const key of this.#events.getKeys({ start: ['pt', bucket, Infinity], end: ['pt', bucket], reverse: true })) {
      const [, , value, itemId] = key as [string, string, number, string];
      if (out.length >= limit && value < out[limit - 1].value) break;
      out.push({ itemId, value });
    }
    return Promise.resolve(out.sort(byCounterValue).slice(0, limit));
  }

  #ensureOpen(): void {
    if (this.#closed) throw new RecError('RTREC_ERR_STORE_UNAVAILABLE', `${this.description} is closed`);
  }
}
