/**
 * @module The online store contract: where `rtrec publish` writes precomputed recommendations as
 * numbered, immutable versions and where `rtrec serve` reads them. One pointer (the active version)
 * says which version readers use; publishing writes a whole new version beside the active one and
 * flips the pointer only after the new version reads back as written.
 *
 * Lists are stored as item indices into the version's own item catalogue (see Catalog), so a stored
 * list is 8 bytes per entry whatever the item ids look like, and every reader resolves ids and
 * metadata from the catalogue of the same version it read the list from.
 */
import type { Ranked } from '../models/recommender.js';
import type { EventLog, ItemCounters } from './event-log.js';
import type { WriterIdentity } from './writer-identity.js';

/** What one version holds, by collection. */
export const COLLECTIONS = {
  /** Per-user top-K lists, keyed by external user id. */
  userRecs: 'u',
  /** Per-item similar-item lists, keyed by external item id. */
  similarItems: 's',
  /** The popularity list: one entry under POPULAR_KEY. */
  popular: 'p',
  /** The item catalogue: one entry per item index (decimal string) with id and metadata. */
  catalog: 'c',
} as const;
export type Collection = (typeof COLLECTIONS)[keyof typeof COLLECTIONS];
export const ALL_COLLECTIONS: readonly Collection[] = Object.values(COLLECTIONS);
export const POPULAR_KEY = 'all';

/** Life cycle of a version: writing → ready (→ deleting), or writing → failed (→ deleting). */
export type VersionStatus = 'writing' | 'ready' | 'failed' | 'deleting';

/** Item metadata as stored: field → value (genres as a list). */
export type ItemFields = Readonly<Record<string, string | readonly string[]>>;

/** The items of a version, indexed like the model's item index; lists refer to these indices. */
export interface Catalog {
  /** External item id per index. */
  readonly ids: readonly string[];
  /** Metadata per index (null when the item has none). */
  readonly metadata: readonly (ItemFields | null)[];
}

export interface CatalogEntry {
  readonly idx: number;
  readonly itemId: string;
  readonly metadata: ItemFields | null;
}

/**
 * A stored list. `fromPopular` marks a user's list that is the version's popular list without the
 * items the user disliked or saw: what a user gets whose events leave no positive interaction (no
 * vector to rank by; see events/list-ranking.ts). It is answered with source "popular".
 */
export interface StoredList extends Ranked {
  readonly fromPopular?: true;
}

/** One precomputed list: `subjectId` is a user id (userRecs) or an item id (similarItems). */
export interface SubjectList {
  readonly subjectId: string;
  readonly ranked: StoredList;
}

/** A user's list computed from the user's logged events up to `cursor` (a user cursor, see EventLog.userEventsAfter). */
export interface CursorList extends SubjectList {
  readonly cursor: string;
}

export type VersionCounts = Readonly<Record<Collection, number>>;

/** Free-form description of what was published (model type, data fingerprint, options). */
export type PublishMeta = Readonly<Record<string, string | number | boolean | null>>;

export interface VersionRecord {
  /** Positive integer, increasing in publish order. */
  readonly version: number;
  readonly status: VersionStatus;
  /** ISO-8601 times. */
  readonly createdAt: string;
  readonly readyAt?: string;
  /** Entries per collection; set when the version became ready. */
  readonly counts?: VersionCounts;
  /** sha256 (hex) over a sample of the written entries, checked by reading them back. */
  readonly checksum?: string;
  /** Who is writing it: a writing version whose writer is gone is removed by the next publish. */
  readonly writer: WriterIdentity;
  /** Last sign of life of the writer, ms since the epoch. */
  readonly heartbeatAt: number;
  /** Backend-specific placement of the data (e.g. Redis hash shard counts); opaque to callers. */
  readonly layout: Readonly<Record<string, number>>;
  readonly meta: PublishMeta;
  /** Why a version failed. */
  readonly error?: string;
  /**
   * When another version last took its place as the active one, ms since the epoch. Servers switch
   * within their refresh interval and may write events' lists into it until then, so prune keeps it
   * for a grace period (PruneOptions). A server lagging longer writes nothing into it once deleted
   * (LMDB), or what it writes is removed by the next prune (Redis; see CleanupResult.orphans).
   */
  readonly retiredAt?: number;
}

export interface PruneOptions {
  /** Versions retired (no longer active) less than this long ago (ms) are kept. Default DEFAULT_RETIRED_GRACE_MS. */
  readonly retiredGraceMs?: number;
}

/** Longer than the longest refresh interval a server can be configured with (60 s). */
export const DEFAULT_RETIRED_GRACE_MS = 120_000;

export interface BeginOptions {
  /** Expected entries per collection, so a backend can size its layout (e.g. shard counts). */
  readonly expected: Partial<VersionCounts>;
  readonly meta?: PublishMeta;
}

/** Writes one new version. Batches are written as one transaction or pipeline each. */
export interface VersionWriter {
  readonly version: number;
  putUserRecs(batch: readonly SubjectList[]): Promise<void>;
  putSimilarItems(batch: readonly SubjectList[]): Promise<void>;
  putPopular(ranked: Ranked): Promise<void>;
  putCatalog(batch: readonly CatalogEntry[]): Promise<void>;
  /**
   * Verifies the version (entry counts equal what this writer wrote, sampled entries read back
   * byte-identical), marks it ready and, unless `activate` is false, makes it the active version.
   * @throws RTREC_ERR_STORE_VERIFY_FAILED (the version is then discarded)
   */
  commit(options?: { activate?: boolean }): Promise<VersionRecord>;
  /** Marks the version failed and removes its data (best effort; the next publish retries). */
  abort(reason: string): Promise<void>;
}

export interface PruneResult {
  readonly deleted: readonly number[];
  readonly kept: readonly number[];
  /** Version numbers whose leftover data no record pointed to was removed (see CleanupResult.orphans). */
  readonly orphans: readonly number[];
  /** Why the orphan sweep failed, when it did (see CleanupResult.sweepError). */
  readonly sweepError?: string;
}

export interface CleanupResult {
  /** Failed, half-deleted and abandoned versions deleted, record and data. */
  readonly deleted: readonly number[];
  /**
   * Version numbers under which data was found that no record points to (written into the version
   * after it was deleted, e.g. by a server lagging more than prune's grace), now removed. Data under
   * a number at or above the newest record's is left for a later sweep: a publish may be creating it.
   */
  readonly orphans: readonly number[];
  /**
   * Why the orphan sweep failed (e.g. a SCAN refused or timed out), when it did. The sweep is best
   * effort: its failure is reported here, not thrown, so it never blocks the deletions around it;
   * what it left is found by the next sweep.
   */
  readonly sweepError?: string;
}

/**
 * A versioned online store. Reads take the version explicitly, so a caller that resolved the active
 * version once reads everything of one request from that version.
 *
 * Real-time updates: `putUserRecs` overwrites one user's list of a ready version in place (lists are
 * single entries keyed by user id), and the event log (EventLog) and the item counters of live
 * popularity (ItemCounters) live outside versions.
 */
export interface OnlineStore extends EventLog, ItemCounters {
  /** The store URL with any password removed, for logs and messages. */
  readonly description: string;
  /** True when `appendEvents` can write users' lists in the append's own transaction (AppendOptions.lists). */
  readonly writesListsWithEvents: boolean;
  /** Resolves when the store answers; rejects with RTREC_ERR_STORE_UNAVAILABLE otherwise. */
  ping(): Promise<void>;
  /**
   * Makes this thread's next reads see every commit made so far, by other threads or processes
   * too: LMDB reads keep one snapshot for a whole event-loop turn (a no-op where reads always see
   * the latest, as on Redis). For a caller told of a write done elsewhere, e.g. on the event-ingest
   * thread, that is about to answer a client who will read it back.
   */
  renewReadSnapshot(): void;
  /**
   * The store's identity: a random id generated once (the first time `create` asks for it) and kept
   * in the store, so it names the store (its event log) whatever URL reaches it; copies of the
   * store's data (a copied LMDB folder, a restored Redis dump) keep it. Undefined when none was
   * created yet and `create` is not set.
   */
  storeId(options?: { readonly create?: boolean }): Promise<string | undefined>;
  close(): Promise<void>;

  /** All versions, oldest first. */
  listVersions(): Promise<VersionRecord[]>;
  getVersion(version: number): Promise<VersionRecord | undefined>;
  /** The active version, or null before the first publish. */
  activeVersion(): Promise<number | null>;

  /**
   * Deletes failed, half-deleted and abandoned writing versions (cleanup without its orphan sweep,
   * which walks the whole keyspace on Redis: prune runs it), then starts writing a new version.
   */
  beginVersion(options: BeginOptions): Promise<VersionWriter>;
  /** @throws RTREC_ERR_STORE_VERSION_NOT_FOUND, RTREC_ERR_STORE_VERSION_NOT_READY */
  activate(version: number): Promise<VersionRecord>;
  /**
   * Activates the version that was active before the current one, among the ready versions older
   * than it (latest retiredAt; never-active ones last, newest first).
   * @throws RTREC_ERR_STORE_NO_ACTIVE_VERSION, RTREC_ERR_STORE_VERSION_NOT_FOUND when there is none
   */
  rollback(): Promise<{ from: number; to: number }>;
  /**
   * Keeps the newest `keep` (≥ 1) ready versions, the active one, and those retired within the
   * grace period (see VersionRecord.retiredAt); deletes every other version. Runs cleanup first,
   * orphan sweep included.
   */
  prune(keep: number, options?: PruneOptions): Promise<PruneResult>;
  /**
   * Deletes failed, half-deleted and abandoned writing versions, then (best effort, see
   * CleanupResult.sweepError) data no version record points to.
   */
  cleanup(): Promise<CleanupResult>;

  /**
   * A user's list. When `previous` (an earlier answer of this method) holds exactly what is stored,
   * `previous` itself is returned, without decoding: identity tells callers the list is unchanged.
   */
  getUserRecs(version: number, userId: string, previous?: StoredList): Promise<StoredList | undefined>;
  /**
   * Writes (or replaces) one user's list in a ready version, visible to every reader at once. The
   * version's recorded counts and checksum describe it as published and are not updated.
   * @throws RTREC_ERR_STORE_VERSION_NOT_FOUND, RTREC_ERR_STORE_VERSION_NOT_READY
   */
  putUserRecs(version: number, userId: string, ranked: StoredList): Promise<void>;
  /**
   * putUserRecs for several users at once, written as one transaction (LMDB) or one pipeline (Redis).
   * @throws RTREC_ERR_STORE_VERSION_NOT_FOUND, RTREC_ERR_STORE_VERSION_NOT_READY
   */
  putUserRecsBatch(version: number, lists: readonly SubjectList[]): Promise<void>;
  /**
   * putUserRecsBatch for lists computed from their users' logs, each written only when it is
   * current, so a list computed before another instance logged an event and wrote a newer list never
   * replaces that one. A list is never written over a list computed from a later cursor; further:
   * - LMDB: it is written only when the user has no event logged after its cursor, checked in the
   *   write transaction (as appends with lists are);
   * - Redis: each list's cursor is kept beside it (a hash in the same cluster slot), and a list is
   *   written only when the kept cursor is not later than its own, in one script. (In a cluster the
   *   log and a version's lists are on different nodes, so no script can check the log itself.)
   * Lists not written because of this are not an error: their users are returned.
   * @throws RTREC_ERR_STORE_VERSION_NOT_FOUND, RTREC_ERR_STORE_VERSION_NOT_READY
   */
  putUserRecsIfCurrent(version: number, lists: readonly CursorList[]): Promise<ReadonlySet<string>>;
  /** An item's similar items; `previous` as for getUserRecs. */
  getSimilarItems(version: number, itemId: string, previous?: Ranked): Promise<Ranked | undefined>;
  getPopular(version: number): Promise<Ranked | undefined>;
  readCatalog(version: number): Promise<Catalog>;
}
