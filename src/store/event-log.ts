/**
 * @module The behaviour-event log every online store keeps beside its versions: events are appended
 * once per `eventId` (a retry returns the original acceptance), are durable before the append
 * resolves, survive publishes, rollbacks and prunes, and can be read per user (to rebuild one user's
 * interactions on any server instance) or in append order (for export to training data).
 */

import type { StoredList } from './online-store.js';

/** An event as the API accepted it (already validated). */
export interface NewEvent {
  /** Unique per event; retries carry the same id. */
  readonly eventId: string;
  readonly userId: string;
  readonly itemId: string;
  /** One of the configured event types (see src/events/event-config.ts). */
  readonly type: string;
  /** Rating for `rating` events (0.5–5), otherwise absent. */
  readonly value?: number;
  /** When the behaviour happened, ms since the epoch (the receive time when the client gave none). */
  readonly ts: number;
}

/** An event as stored: `seq` orders events in the log (a decimal number or a Redis stream id). */
export interface StoredEvent extends NewEvent {
  readonly seq: string;
}

export interface AppendResult {
  /** The event as stored: for a duplicate, the original one. */
  readonly event: StoredEvent;
  /** True when an event with this eventId was already in the log (nothing was appended). */
  readonly duplicate: boolean;
  /**
   * For a newly logged event, where it sits among its user's events: the user cursor (see
   * `userEventsAfter`) just before and just after it. A caller holding the user's events up to
   * `before` knows this event is the only one in between without reading. Absent for duplicates.
   */
  readonly userCursor?: { readonly before: string; readonly after: string };
  /** True when `AppendOptions.lists` held this event's user and the list was written with the append. */
  readonly listWritten?: boolean;
}

/** How durable an append is when it resolves. */
export type EventSync = 'commit' | 'fsync';

/** Adds `amount` to `itemId`'s counter in `bucket` (see ItemCounters). */
export interface CounterAdd {
  readonly bucket: string;
  readonly itemId: string;
  readonly amount: number;
}

export interface AppendOptions {
  /**
   * 'commit' (default): resolves once the append is committed (LMDB: committed transaction, visible
   * to every process and kept when the API process is killed; its fsync runs behind); Redis: once
   * the server executed it. 'fsync': LMDB also waits until the commit is flushed to disk (kept on
   * power loss); Redis is unchanged (its `appendfsync` setting decides).
   */
  readonly sync?: EventSync;
  /**
   * Counter adds applied atomically with the append (one transaction or script): `adds[j]` belongs
   * to `events[j]` and is applied only when that event is newly logged, so a retried duplicate never
   * counts twice. `keepMs` as in `addItemCounters`.
   */
  readonly counters?: { readonly adds: readonly (CounterAdd | undefined)[]; readonly keepMs: number };
  /**
   * Users' lists of ready version `version` to write in the same transaction as the append, on
   * stores whose `writesListsWithEvents` is true (others ignore it). Each list was computed from the
   * user's events up to `cursor` plus this append's events of that user, so it is written only when,
   * inside the transaction, the user has no other event after `cursor` and none of its events in this
   * append is a duplicate; its results then say `listWritten`.
   */
  readonly lists?: { readonly version: number; readonly users: ReadonlyMap<string, { readonly cursor: string; readonly ranked: StoredList }> };
}

/** The user cursor before a user's first event (every backend): a user whose first logged event's `userCursor.before` is this had no event before it. */
export const NO_EVENTS_CURSOR = '0';

/** Events of one user after a cursor, and the cursor after them. */
export interface UserEventsPage {
  /** In log order. */
  readonly events: StoredEvent[];
  /** Pass to the next `userEventsAfter` to get only what was logged since (opaque). */
  readonly cursor: string;
}

export interface ScanOptions {
  /** Only events whose `ts` is at or after this time, ms since the epoch. */
  readonly sinceTs?: number;
  /** Events per read from the store (default 1000). */
  readonly pageSize?: number;
}

/** The event-log half of an OnlineStore. */
export interface EventLog {
  /**
   * Appends events in order as one transaction (LMDB) or script (Redis); resolves only when all are
   * durable as `options.sync` says (LMDB: committed transaction, by default; Redis: executed XADD, as
   * durable as the server's AOF setting, `appendfsync everysec` loses ≤ 1 s on a Redis crash). An
   * event whose eventId is already logged (earlier, or earlier in `events`) is not appended again.
   */
  appendEvents(events: readonly NewEvent[], options?: AppendOptions): Promise<AppendResult[]>;
  /** All events of one user, in log order. */
  userEvents(userId: string): Promise<StoredEvent[]>;
  /**
   * The user's events logged after `cursor` (a cursor from an earlier page or AppendResult; undefined:
   * from the first), in log order. Cursors are per user and only move forward.
   */
  userEventsAfter(userId: string, cursor?: string): Promise<UserEventsPage>;
  /** Every user with at least one event (any order). */
  eventUsers(): Promise<string[]>;
  /** The whole log in append order, page by page. */
  scanEvents(options?: ScanOptions): AsyncIterable<StoredEvent>;
}

/** One item's counter, as read back. */
export interface ItemCounter {
  readonly itemId: string;
  readonly value: number;
}

/** The order topItemCounters answers in: largest value first, ties by ascending item id. */
export function byCounterValue(a: ItemCounter, b: ItemCounter): number {
  return b.value - a.value || (a.itemId < b.itemId ? -1 : a.itemId > b.itemId ? 1 : 0);
}

/**
 * Per-item counters outside versions (used for live popularity), grouped in named buckets so a
 * caller can start a fresh bucket instead of rescaling an old one. Adds are atomic per item, so any
 * number of instances may add to the same bucket at once.
 */
export interface ItemCounters {
  /** Adds `amounts` (item id → amount) to the bucket; the bucket may be dropped `keepMs` after its last add. */
  addItemCounters(bucket: string, amounts: ReadonlyMap<string, number>, keepMs: number): Promise<void>;
  /** The `limit` largest counters of the bucket, largest first (empty for an unknown bucket). */
  topItemCounters(bucket: string, limit: number): Promise<ItemCounter[]>;
}

/**
 * A log position (`StoredEvent.seq`) as [major, minor], for ordering positions of one store: a
 * decimal sequence number (LMDB, "12" → [12, 0]) or a Redis stream id ("1700000000000-3" →
 * [1700000000000, 3]). Undefined for anything else (e.g. the empty seq of an event not logged yet).
 */
export function parseSeq(seq: string): readonly [number, number] | undefined {
  const dash = seq.indexOf('-');
  const major = Number(dash < 0 ? seq : seq.slice(0, dash));
  const minor = dash < 0 ? 0 : Number(seq.slice(dash + 1));
  if (seq === '' || !Number.isSafeInteger(major) || !Number.isSafeInteger(minor) || major < 0 || minor < 0) return undefined;
  return [major, minor];
}

/** Encodes an event for the log (JSON: compact, readable with redis-cli and mdb tools). */
export function encodeEvent(e: NewEvent): string {
  const doc: Record<string, unknown> = { eventId: e.eventId, userId: e.userId, itemId: e.itemId, type: e.type, ts: e.ts };
  if (e.value !== undefined) doc.value = e.value;
  return JSON.stringify(doc);
}

/** Decodes encodeEvent output and attaches its log position. */
export function decodeEvent(text: string, seq: string): StoredEvent {
  return storedEvent(JSON.parse(text) as NewEvent, seq);
}

/** The event as logged at `seq`: what decodeEvent gives for encodeEvent(e), without the round trip. */
export function storedEvent(e: NewEvent, seq: string): StoredEvent {
  return { eventId: e.eventId, userId: e.userId, itemId: e.itemId, type: e.type, ts: e.ts, ...(e.value === undefined ? {} : { value: e.value }), seq };
}
