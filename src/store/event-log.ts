/**
 * @module The behaviour-event log every online store keeps beside its versions: events are appended
 * once per `eventId` (a retry returns the original acceptance), are durable before the append
 * resolves, survive publishes, rollbacks and prunes, and can be read per user (to rebuild one user's
 * interactions on any server instance) or in append order (for export to training data).
 */

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
   * Appends events in order; resolves only when all are durable (LMDB: committed transaction; Redis:
   * acknowledged XADD, as durable as the server's AOF setting, `appendfsync everysec` loses ≤ 1 s on a
   * Redis crash). An event whose eventId is already logged is not appended again.
   */
  appendEvents(events: readonly NewEvent[]): Promise<AppendResult[]>;
  /** All events of one user, in log order. */
  userEvents(userId: string): Promise<StoredEvent[]>;
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

/** Encodes an event for the log (JSON: compact, readable with redis-cli and mdb tools). */
export function encodeEvent(e: NewEvent): string {
  const doc: Record<string, unknown> = { eventId: e.eventId, userId: e.userId, itemId: e.itemId, type: e.type, ts: e.ts };
  if (e.value !== undefined) doc.value = e.value;
  return JSON.stringify(doc);
}

/** Decodes encodeEvent output and attaches its log position. */
export function decodeEvent(text: string, seq: string): StoredEvent {
  const doc = JSON.parse(text) as NewEvent;
  return { eventId: doc.eventId, userId: doc.userId, itemId: doc.itemId, type: doc.type, ts: doc.ts, ...(doc.value === undefined ? {} : { value: doc.value }), seq };
}
