/**
 * @module The LMDB event log's write transaction: appending a group of events (log, idempotency
 * keys, user index, live-popularity counters and, optionally, the users' lists) and the counter
 * read-modify-write. Lists go into a version only while its record says it is live (versionLive).
 * The same code runs on the event loop (lmdb-store.ts) or on the append thread
 * (lmdb-append-thread.ts), so its outcome is packed in a few typed arrays that cross threads cheaply;
 * `unpackAppend` turns it into the AppendResults callers see. Layout: see lmdb-store.ts.
 */
import type { Database } from 'lmdb';
import { flushErrorReason, type VisibleCommits } from './lmdb-visible-commit.js';
import { decodeEvent, encodeEvent, storedEvent, type AppendResult, type CounterAdd, type ItemCounter, type NewEvent } from './event-log.js';
import type { VersionRecord, VersionStatus } from './online-store.js';

/** Key of the log's counter (last seq assigned). */
export const SEQ = 'seq';
/** Separates bucket and item id in counter keys (ids never hold control characters). */
const US = '\u001f';

export type DataKey = [number, string, string];
export type EventKey = string | [string, number] | [string, string] | [string, string, number] | [string, string, number, string];
/** `active`, `seq`, `storeId`, or `['v', version]` → VersionRecord. */
export type ControlKey = string | [string, number];

/**
 * The databases an append uses: the log (JSON) and the versions' data (binary) it writes, and the
 * control records (JSON) it only reads, to write lists only into a live version.
 */
export interface EventDbs {
  readonly events: Database<unknown, EventKey>;
  readonly data: Database<Uint8Array, DataKey>;
  readonly control: Database<unknown, ControlKey>;
}

/**
 * The status of version `version` when it may be written into ('writing' or 'ready'), else what
 * it is ('failed', 'deleting', or undefined: no record). Call inside the write transaction that
 * writes the data: deleting a version marks its record 'deleting' (a write transaction of its own)
 * before removing its data, and LMDB serialises write transactions across threads and processes, so
 * a write checked here either commits before that mark, and is removed with the rest of the data,
 * or sees the mark and writes nothing. Without the check, a server still holding the place of a
 * version pruned under it would leave lists behind that no record points to.
 */
export function versionLive(control: Database<unknown, ControlKey>, version: number): { readonly live: boolean; readonly status: VersionStatus | undefined } {
  const status = (control.get(['v', version]) as VersionRecord | undefined)?.status;
  return { live: status === 'writing' || status === 'ready', status };
}

/** What the transaction needs besides the events; plain data, so it can be posted to a thread. */
export interface TxnAppendOptions {
  /** Per event (same index), its live-popularity add, applied only when the event is newly logged. */
  readonly counterAdds?: readonly (CounterAdd | undefined)[];
  /** Lists written with the append, per user, when nothing else was logged for the user after `cursor`. */
  readonly lists?: { readonly version: number; readonly collection: string; readonly users: ReadonlyMap<string, { readonly cursor: string; readonly value: Uint8Array }> };
}

/** Flags of one event in PackedAppend.flags. */
const DUPLICATE = 1;
const LIST_WRITTEN = 2;

/** An append's outcome per event (same index as the events). */
export interface PackedAppend {
  /** The seq the event is logged at (for a duplicate, the original's). */
  readonly seqs: Float64Array;
  /** Newly logged events: the user's last seq before this one (0: none). */
  readonly before: Float64Array;
  readonly flags: Uint8Array;
  /** Duplicates: the original event's stored text, by event index. */
  readonly duplicates: ReadonlyMap<number, string>;
}

/** The body of an append's write transaction (reads here see the transaction's own writes). */
export function appendInTxn(dbs: EventDbs, events: readonly NewEvent[], options: TxnAppendOptions): PackedAppend {
  const { events: log, data } = dbs;
  const adds = options.counterAdds;
  const lists = options.lists;
  // A list is current only if nothing else was logged for its user after its cursor.
  const clean = new Set<string>();
  if (lists) for (const [userId, { cursor }] of lists.users) if (isCurrent(log, userId, cursor)) clean.add(userId);
  const n = events.length;
  const out: PackedAppend = { seqs: new Float64Array(n), before: new Float64Array(n), flags: new Uint8Array(n), duplicates: new Map() };
  const duplicates = out.duplicates as Map<number, string>;
  const counts = new Map<string, { bucket: string; itemId: string; amount: number }>();
  const first = (log.get(SEQ) as number | undefined) ?? 0;
  let seq = first;
  for (let j = 0; j < n; j++) {
    const e = events[j];
    const known = log.get(['i', e.eventId]) as number | undefined;
    if (known !== undefined) {
      out.seqs[j] = known;
      out.flags[j] = DUPLICATE;
      duplicates.set(j, log.get(['e', known]) as string);
      clean.delete(e.userId);
      continue;
    }
    seq++;
    const text = encodeEvent(e);
    const before = lastUserSeq(log, e.userId);
    void log.put(['e', seq], text);
    void log.put(['i', e.eventId], seq);
    void log.put(['u', e.userId, seq], text);
    void log.put(['l', e.userId], seq);
    if (before === 0) void log.put(['n', e.userId], 1);
    out.seqs[j] = seq;
    out.before[j] = before;
    const add = adds?.[j];
    if (add) {
      const key = `${add.bucket}${US}${add.itemId}`;
      const sum = counts.get(key);
      if (sum) sum.amount += add.amount;
      else counts.set(key, { bucket: add.bucket, itemId: add.itemId, amount: add.amount });
    }
  }
  if (seq !== first) void log.put(SEQ, seq);
  const indexed = new Set<string>();
  for (const { bucket, itemId, amount } of counts.values()) addCounter(log, bucket, itemId, amount, indexed);
  // A version deleted (or being deleted) keeps no lists: the events are logged without them.
  if (!lists || clean.size === 0 || !versionLive(dbs.control, lists.version).live) return out;
  for (const userId of clean) void data.put([lists.version, lists.collection, userId], lists.users.get(userId)!.value);
  for (let j = 0; j < n; j++) if (out.flags[j] === 0 && clean.has(events[j].userId)) out.flags[j] = LIST_WRITTEN;
  return out;
}

/**
 * True when the transaction that appended `events` (with outcome `packed`) is committed, as the
 * current read snapshot shows. Seqs are assigned in serialised write transactions and a new event
 * always gets a seq above every logged one, so the event with the largest seq was logged by this
 * append (if it logged any) or, for an append of duplicates only, by the transaction it shares or an
 * earlier one: once that event's idempotency key reads back with that seq, everything the append
 * wrote is visible. A transaction that failed to commit leaves its seqs to be assigned again to other
 * events, which the key check tells apart.
 */
export function appendVisible(log: Database<unknown, EventKey>, events: readonly NewEvent[], packed: PackedAppend): boolean {
  let last = -1;
  for (let j = 0; j < events.length; j++) if (last < 0 || packed.seqs[j] > packed.seqs[last]) last = j;
  return last < 0 || log.get(['i', events[last].eventId]) === packed.seqs[last];
}

/** How an append is acknowledged (see runAppend). */
export interface AppendAnswer {
  /** Wait until the commit is flushed to disk too. */
  readonly fsync: boolean;
  /** Answer once the commit is visible (lmdb-visible-commit.ts); undefined: when lmdb-js resolves it. */
  readonly visible: VisibleCommits | undefined;
  /** Told when the commit failed to flush after the append was answered. */
  readonly onFlushError?: ((reason: string) => void) | undefined;
}

/**
 * Runs an append in an asynchronous write transaction (lmdb-js runs the callback inside its next
 * write batch, so concurrent appends share one commit). `answered` resolves when the append may be
 * acknowledged: once its commit is visible, or once flushed with `fsync`; `committed` when lmdb-js
 * resolves the transaction, after its flush.
 */
export function runAppend(dbs: EventDbs, events: readonly NewEvent[], options: TxnAppendOptions, answer: AppendAnswer): { readonly committed: Promise<PackedAppend>; readonly answered: Promise<PackedAppend> } {
  let staged: PackedAppend | undefined;
  const committed = dbs.events.transaction(() => (staged = appendInTxn(dbs, events, options)));
  const { visible, onFlushError } = answer;
  const answered =
    answer.fsync || !visible
      ? committed.then(async (packed) => {
          if (answer.fsync) await dbs.events.flushed;
          return packed;
        })
      : visible.whenVisible(
          committed,
          () => (staged && appendVisible(dbs.events, events, staged) ? staged : undefined),
          (err) => onFlushError?.(flushErrorReason(err)),
        );
  return { committed, answered };
}

/** The AppendResults of `events` from their packed outcome. */
export function unpackAppend(events: readonly NewEvent[], packed: PackedAppend): AppendResult[] {
  const out = new Array<AppendResult>(events.length);
  for (let j = 0; j < events.length; j++) {
    const seq = String(packed.seqs[j]);
    const flags = packed.flags[j];
    if (flags & DUPLICATE) {
      out[j] = { event: decodeEvent(packed.duplicates.get(j)!, seq), duplicate: true };
      continue;
    }
    const result: AppendResult = { event: storedEvent(events[j], seq), duplicate: false, userCursor: { before: String(packed.before[j]), after: seq } };
    out[j] = flags & LIST_WRITTEN ? { ...result, listWritten: true } : result;
  }
  return out;
}

/**
 * Writes each list of `lists` whose user has nothing logged after its cursor; returns the users
 * whose lists were not written, or, when the version may not be written into (see versionLive),
 * its status and writes nothing. Call inside a write transaction.
 */
export function writeListsIfCurrent(dbs: EventDbs, version: number, collection: string, lists: readonly { readonly key: string; readonly value: Uint8Array; readonly cursor: string }[]): string[] | { readonly status: VersionStatus | undefined } {
  const check = versionLive(dbs.control, version);
  if (!check.live) return { status: check.status };
  const refused: string[] = [];
  for (const { key, value, cursor } of lists) {
    if (isCurrent(dbs.events, key, cursor)) void dbs.data.put([version, collection, key], value);
    else refused.push(key);
  }
  return refused;
}

/** True when nothing was logged for `userId` after `cursor` (a seq); call inside a write transaction. */
function isCurrent(log: Database<unknown, EventKey>, userId: string, cursor: string): boolean {
  const after = Number(cursor);
  return Number.isSafeInteger(after) && lastUserSeq(log, userId) <= after;
}

/** The seq of the user's last event (0: none); call inside a write transaction. */
export function lastUserSeq(log: Database<unknown, EventKey>, userId: string): number {
  const last = log.get(['l', userId]) as number | undefined;
  if (last !== undefined) return last;
  if (log.get(['n', userId]) === undefined) return 0;
  // A user whose events were logged before `['l', userId]` was kept: find the last one.
  for (const key of log.getKeys({ start: ['u', userId, Infinity], end: ['u', userId], reverse: true, limit: 1 })) {
    return (key as [string, string, number])[2];
  }
  return 0;
}

/**
 * Read-modify-write of one counter and its index entry; call inside a write transaction.
 * `indexed`: the buckets this transaction has already made sure are indexed.
 */
export function addCounter(log: Database<unknown, EventKey>, bucket: string, itemId: string, amount: number, indexed: Set<string>): void {
  if (!indexed.has(bucket)) {
    indexBucket(log, bucket);
    indexed.add(bucket);
  }
  const key: EventKey = ['pc', `${bucket}${US}${itemId}`];
  const before = log.get(key) as number | undefined;
  const after = (before ?? 0) + amount;
  void log.put(key, after);
  if (before !== undefined) void log.remove(['pt', bucket, before, itemId]);
  void log.put(['pt', bucket, after, itemId], 0);
}

/**
 * Indexes a bucket written before the value index existed; call inside a write transaction. (The
 * marker is read once per transaction rather than remembered: a transaction that aborts must not
 * leave this process believing its bucket indexed.)
 */
function indexBucket(log: Database<unknown, EventKey>, bucket: string): void {
  if (log.get(['pi', bucket]) !== undefined) return;
  for (const { itemId, value } of scanCounters(log, bucket)) void log.put(['pt', bucket, value, itemId], 0);
  void log.put(['pi', bucket], 1);
}

/** Every counter of `bucket`, in item id order (one key range). */
export function* scanCounters(log: Database<unknown, EventKey>, bucket: string): Iterable<ItemCounter> {
  const start = `${bucket}${US}`;
  for (const { key, value } of log.getRange({ start: ['pc', start], end: ['pc', `${bucket}\u0020`] })) {
    yield { itemId: (key as [string, string])[1].slice(start.length), value: value as number };
  }
}
