/**
 * @module The few primitives a storage engine supplies so VersionedStore can implement the whole
 * versioned-publish protocol once: a control plane (version records and the active pointer, changed
 * atomically) and a data plane (entries keyed by version, collection and key, written in batches).
 */
import type { AppendOptions, AppendResult, EventLog, ItemCounters, NewEvent } from './event-log.js';
import type { Collection, VersionCounts, VersionRecord, VersionStatus } from './online-store.js';

export interface DataEntry {
  readonly key: string;
  readonly value: Buffer;
}

/** A user list entry computed from the user's log up to `cursor`. */
export interface CursorEntry extends DataEntry {
  readonly cursor: string;
}

/** Where a version's data lives: its number and the backend's layout parameters. */
export interface VersionPlace {
  readonly version: number;
  readonly layout: Readonly<Record<string, number>>;
}

/** What a walk over the stored data itself (not the version records) found; see orphan-sweep.ts. */
export interface DataScan {
  /** Version numbers the walk found data under. */
  readonly versions: readonly number[];
  /** Deletes the data stored under these version numbers, whatever layout wrote it (idempotent). */
  deleteVersions(versions: readonly number[]): Promise<void>;
}

export type SetActiveResult = 'ok' | 'missing' | 'not-ready';
export type UpdateResult = 'ok' | 'missing' | 'conflict' | 'active';

/** AppendOptions as a backend takes them: lists already placed and encoded (see VersionedStore). */
export interface BackendAppendOptions extends Omit<AppendOptions, 'lists'> {
  readonly lists?: { readonly place: VersionPlace; readonly users: ReadonlyMap<string, { readonly cursor: string; readonly value: Buffer }> };
}

/** A backend also keeps the event log and item counters (outside versions: publishes and prunes never touch them). */
export interface StoreBackend extends Omit<EventLog, 'appendEvents'>, ItemCounters {
  readonly description: string;
  /** True when appendEvents writes `lists` in its transaction. */
  readonly writesListsWithEvents: boolean;
  appendEvents(events: readonly NewEvent[], options?: BackendAppendOptions): Promise<AppendResult[]>;
  ping(): Promise<void>;
  /** See OnlineStore.renewReadSnapshot; absent where reads always see the latest. */
  renewReadSnapshot?(): void;
  /** See OnlineStore.storeId: `create` sets it atomically unless already set, and returns the one kept. */
  storeId(create: boolean): Promise<string | undefined>;
  close(): Promise<void>;

  readActive(): Promise<number | null>;
  /** All records, any order. */
  readVersions(): Promise<VersionRecord[]>;
  readVersion(version: number): Promise<VersionRecord | undefined>;
  /** Reserves the next version number (never reused) and stores the record built for it. */
  createVersion(build: (version: number) => VersionRecord): Promise<VersionRecord>;
  /**
   * Replaces the record of `record.version` atomically when its current status is one of `from`;
   * with `refuseActive`, also only when it is not the active version.
   */
  updateVersion(record: VersionRecord, from: readonly VersionStatus[], refuseActive: boolean): Promise<UpdateResult>;
  /** Sets the active pointer atomically, only when the version's record says ready. */
  setActive(version: number): Promise<SetActiveResult>;
  /** Removes a record (its data must already be gone); refuses the active version. */
  removeVersion(version: number): Promise<UpdateResult>;

  /** Layout parameters for a version about to be written with about `expected` entries. */
  planLayout(expected: Partial<VersionCounts>): Readonly<Record<string, number>>;
  /** Writes one batch as one transaction or pipeline. */
  writeEntries(place: VersionPlace, collection: Collection, entries: readonly DataEntry[]): Promise<void>;
  /** Writes user lists each only when current (see OnlineStore.putUserRecsIfCurrent); returns the keys not written. */
  writeUserListsIfCurrent(place: VersionPlace, entries: readonly CursorEntry[]): Promise<string[]>;
  /**
   * One entry, passed through `decode` as soon as it is read: `bytes` may be the store's own reused
   * buffer (LMDB hands out its read buffer without a copy), so `decode` must copy what it keeps.
   */
  readEntry<T>(place: VersionPlace, collection: Collection, key: string, decode: (bytes: Uint8Array) => T): Promise<T | undefined>;
  countEntries(place: VersionPlace, collection: Collection): Promise<number>;
  /** Every value of a collection (used for the catalogue, which readers load whole). */
  readAllValues(place: VersionPlace, collection: Collection): Promise<Buffer[]>;
  /** Deletes all data of a version (idempotent). */
  deleteData(place: VersionPlace): Promise<void>;
  /** Walks the data for the version numbers it holds anything under, whether a record points to them or not. */
  scanData(): Promise<DataScan>;
}
