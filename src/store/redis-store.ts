/**
 * @module The Redis online store, for a single server or a Redis Cluster. Key design (cluster-safe):
 *
 * - Control keys share the hash tag `{prefix}` so the few multi-key atomic steps (activate only a
 *   ready version; change a record only in an expected status and never the active one) run as Lua
 *   scripts on one node: `{rtrec}:active` (string), `{rtrec}:seq` (counter), `{rtrec}:versions`
 *   (hash version → JSON record), and `{rtrec}:store-id` (the store's identity, see
 *   OnlineStore.storeId).
 * - Data keys carry no hash tag and spread over the cluster: `rtrec:v<n>:<collection>:<shard>` is a
 *   hash from key (user id, item id, or item index) to encoded value. A user-list hash updated in
 *   real time has a companion `{rtrec:v<n>:u:<shard>}:cursors` (same slot: its hash tag is the data
 *   key) holding the log cursor each list was computed at, so a list is never replaced by an older one. On a single server the list
 *   collections are one hash each (up to 2^20 entries), so the reads of one serving turn are one
 *   HMGET (redis-read-batch.ts); a cluster gets ~1,000 entries per hash to spread over nodes. A
 *   version's keys are enumerable from its record's shard counts, so counting (HLEN) and deleting
 *   (UNLINK) never need SCAN. A batch of entries is written as HSETs of bounded size, pipelined a
 *   window of bytes at a time, each sent again when its reply is late (redis-hash-writes.ts).
 * - No script can check a version's record before writing its data (they are in different cluster
 *   slots), so a server still writing lists into a version deleted under it recreates hashes no
 *   record points to; the orphan sweep (orphan-sweep.ts) finds them with SCAN (redis-version-keys.ts).
 * - The event log (outside versions) shares the control hash tag, so Lua scripts append a batch
 *   of events (and their live-popularity counter adds) in order, each script's events atomically: `{rtrec}:events` (stream, one entry per event, field `e` = JSON), `{rtrec}:event-ids`
 *   (hash eventId → stored event, for idempotent retries), `{rtrec}:ue:<userId>` (list of the user's
 *   stored events) and `{rtrec}:event-users` (set). An append is acknowledged once Redis executed
 *   the script; how much survives a Redis crash is Redis's persistence setting (run with
 *   `appendonly yes` and `appendfsync everysec`: at most about one second of acknowledged events).
 *   Killing the API process never loses an acknowledged event.
 * - Item counters (live popularity) are one sorted set per bucket, `{rtrec}:pop:<bucket>` (member
 *   item id, score the counter), added to with ZINCRBY in one script and expiring `keepMs` after the
 *   last add.
 */
import { randomUUID } from 'node:crypto';
import { RecError } from '../core/errors.js';
import { byCounterValue, decodeEvent, encodeEvent, type AppendResult, type CounterAdd, type ItemCounter, type NewEvent, type ScanOptions, type StoredEvent, type UserEventsPage } from './event-log.js';
import { ALL_COLLECTIONS, COLLECTIONS, type Collection, type VersionCounts, type VersionRecord, type VersionStatus } from './online-store.js';
import { fnv1a32 } from './rec-codec.js';
import { ByteWindow } from './byte-window.js';
import { connectRedis, parseRedisUrl, type RedisConn, type RedisConnOptions, type RedisTarget } from './redis-conn.js';
import { planHsets, writeHsets, type HashWriteOptions } from './redis-hash-writes.js';
import { HashReadBatch } from './redis-read-batch.js';
import { scanVersionKeys, unlinkKeys } from './redis-version-keys.js';
import type { BackendAppendOptions, CursorEntry, DataEntry, DataScan, SetActiveResult, StoreBackend, UpdateResult, VersionPlace } from './store-backend.js';
import { VersionedStore, type VersionedStoreOptions } from './versioned-store.js';

export interface RedisStoreOptions extends VersionedStoreOptions, RedisConnOptions {
  /** A read (HGET) without reply within this many ms fails, so servers can fall back. Default 1000. */
  readonly readTimeoutMs?: number;
  /**
   * A data write (one HSET of at most HSET_MAX_BYTES) without reply within this many ms is sent again,
   * up to WRITE_ATTEMPTS times, then the publish fails. Default 15000: three tries stay under the
   * 60 s after which a silent writer counts as abandoned.
   */
  readonly writeTimeoutMs?: number;
}

/** Entries per hash shard the layout aims for: many hashes, to spread a cluster's nodes evenly. */
const SHARD_TARGET = 1_000;
/**
 * The same on a single server for lists (users, similar items), where spreading buys nothing: one
 * hash up to a million entries lets a serving turn's reads share one HMGET (redis-read-batch.ts;
 * +16% requests/s at saturation, measured). The catalogue keeps small shards: it is read whole (HVALS)
 * when a version loads, a shard per reply.
 */
const SINGLE_SERVER_SHARD_TARGET = 1 << 20;
const MAX_SHARDS = 16_384;
/** Field bytes per HSET: bigger batches (long lists, few shards) are split. */
export const HSET_MAX_BYTES = 256 * 1024;
/** Data bytes in flight per connection: a batch is pipelined this much at a time. */
export const WRITE_WINDOW_BYTES = 4 * 1024 * 1024;
/** Sends of one data HSET whose reply did not come in time before the write fails. */
export const WRITE_ATTEMPTS = 3;

const UPDATE_SCRIPT = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return 'missing' end
local st = cjson.decode(cur)['status']
local allowed = false
for i = 4, #ARGV do if ARGV[i] == st then allowed = true end end
if not allowed then return 'conflict' end
if ARGV[3] == '1' and redis.call('GET', KEYS[2]) == ARGV[1] then return 'active' end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 'ok'`;

const SET_ACTIVE_SCRIPT = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return 'missing' end
if cjson.decode(cur)['status'] ~= 'ready' then return 'not-ready' end
redis.call('SET', KEYS[2], ARGV[1])
return 'ok'`;

/**
 * The next version number: one above the counter and above every recorded version. The counter
 * alone would hand out a number a record already has if it were lost while the records stayed
 * (evicted under an allkeys-* maxmemory policy, or restored from an older snapshot), and the new
 * version would then overwrite that record and share its keys. KEYS: counter, versions hash.
 */
const ALLOCATE_VERSION_SCRIPT = `
local v = redis.call('INCR', KEYS[1])
local top = v
for _, field in ipairs(redis.call('HKEYS', KEYS[2])) do
  local n = tonumber(field)
  if n and n >= top then top = n + 1 end
end
if top ~= v then redis.call('SET', KEYS[1], top) end
return top`;

const REMOVE_SCRIPT = `
if redis.call('GET', KEYS[2]) == ARGV[1] then return 'active' end
redis.call('HDEL', KEYS[1], ARGV[1])
return 'ok'`;

/**
 * Most events one append script logs, and most lists one list-writing script writes. Redis serves no
 * one else while a script runs, and one script per group (up to 1,000 events) held every read behind
 * it: at 5,000 events/s on the 50k-item catalogue (bench:realtime-batched, a slow window) SLOWLOG had
 * append scripts of up to 85–118 ms and list writes up to 48–71 ms, and the server answered only
 * 75–90% of its reads within 25 ms. With scripts this size: at most 22 and 14 ms, and 94–98% of
 * reads within 25 ms, for about 2% more CPU per event. Redis reads a client's pipeline about 16 KB
 * (one script) at a time and serves its other clients in between.
 */
const APPEND_SCRIPT_MAX_EVENTS = 64;
const LIST_SCRIPT_MAX_LISTS = 32;

/**
 * Appends events in order, with their counter adds, atomically. KEYS: stream, ids hash,
 * users set, then the user lists and counter sets the batch touches. ARGV: keepMs, then per event
 * eventId, event JSON, userId, index of its user list in KEYS, index of its counter set in KEYS (0:
 * none), itemId, amount. Returns per event {isDuplicate, stored JSON, length of the user's list after
 * it (0 for a duplicate)}.
 */
const APPEND_EVENTS_SCRIPT = `
local out = {}
local touched = {}
for i = 2, #ARGV, 7 do
  local have = redis.call('HGET', KEYS[2], ARGV[i])
  if have then
    out[#out + 1] = 1
    out[#out + 1] = have
    out[#out + 1] = 0
  else
    local id = redis.call('XADD', KEYS[1], '*', 'e', ARGV[i + 1])
    local stored = '{"seq":"' .. id .. '",' .. string.sub(ARGV[i + 1], 2)
    redis.call('HSET', KEYS[2], ARGV[i], stored)
    local len = redis.call('RPUSH', KEYS[tonumber(ARGV[i + 3])], stored)
    -- Users' lists only grow, so a user joins the set with their first event.
    if len == 1 then redis.call('SADD', KEYS[3], ARGV[i + 2]) end
    local c = tonumber(ARGV[i + 4])
    if c > 0 then
      redis.call('ZINCRBY', KEYS[c], ARGV[i + 6], ARGV[i + 5])
      touched[c] = true
    end
    out[#out + 1] = 0
    out[#out + 1] = stored
    out[#out + 1] = len
  end
end
for c in pairs(touched) do redis.call('PEXPIRE', KEYS[c], ARGV[1]) end
return out`;

/**
 * Writes user lists of one data hash, each only when the cursor kept for it is not later than its
 * own (see OnlineStore.putUserRecsIfCurrent). KEYS: the data hash, its cursor hash (same slot).
 * ARGV: userId, encoded list, cursor triples. Returns the users not written.
 */
const WRITE_LISTS_IF_CURRENT_SCRIPT = `
local refused = {}
for i = 1, #ARGV, 3 do
  local kept = redis.call('HGET', KEYS[2], ARGV[i])
  if kept and tonumber(kept) > tonumber(ARGV[i + 2]) then
    refused[#refused + 1] = ARGV[i]
  else
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
    redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 2])
  end
end
return refused`;

/** KEYS: the bucket's sorted set. ARGV: keepMs, then itemId, amount pairs. */
const ADD_COUNTERS_SCRIPT = `
for i = 2, #ARGV, 2 do redis.call('ZINCRBY', KEYS[1], ARGV[i + 1], ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 'ok'`;

/**
 * The largest `ARGV[1]` counters of a bucket and every member tied with the last of them, in one
 * atomic read: Redis orders equal scores by descending member in REV ranges, so the ties at the cut
 * must all be seen to order them by ascending id. Scores come back as Redis's own exact text.
 */
const TOP_COUNTERS_SCRIPT = `
local top = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1, 'REV', 'WITHSCORES')
if #top < 2 * tonumber(ARGV[1]) then return {top, {}} end
local last = top[#top]
return {top, redis.call('ZRANGE', KEYS[1], last, last, 'BYSCORE', 'WITHSCORES')}`;

/** Connects to the store at a `redis://`, `rediss://` or `redis+cluster://` URL. */
export async function openRedisStore(url: string, options: RedisStoreOptions = {}): Promise<VersionedStore> {
  const target = parseRedisUrl(url);
  const conn = await connectRedis(target, options);
  const writes: HashWriteOptions = {
    window: new ByteWindow(WRITE_WINDOW_BYTES),
    timeoutMs: options.writeTimeoutMs ?? 15_000,
    attempts: WRITE_ATTEMPTS,
    description: target.description,
  };
  return new VersionedStore(new RedisBackend(target, conn, options.readTimeoutMs ?? 1_000, writes), options);
}

class RedisBackend implements StoreBackend {
  readonly description: string;
  /** User lists live in data hashes without the control hash tag, so the append script cannot write them (cluster). */
  readonly writesListsWithEvents = false;
  readonly #conn: RedisConn;
  readonly #prefix: string;
  readonly #readTimeoutMs: number;
  readonly #writes: HashWriteOptions;
  /** Data reads, one HMGET per hash and event-loop turn (redis-read-batch.ts). */
  readonly #reads: HashReadBatch;
  readonly #kind: RedisTarget['kind'];
  readonly #active: string;
  readonly #seq: string;
  readonly #versions: string;
  readonly #stream: string;
  readonly #eventIds: string;
  readonly #eventUsers: string;
  readonly #storeId: string;

  constructor(target: RedisTarget, conn: RedisConn, readTimeoutMs: number, writes: HashWriteOptions) {
    this.description = target.description;
    this.#conn = conn;
    this.#prefix = target.prefix;
    this.#readTimeoutMs = readTimeoutMs;
    this.#writes = writes;
    this.#reads = new HashReadBatch(conn, readTimeoutMs);
    this.#kind = target.kind;
    this.#active = `{${target.prefix}}:active`;
    this.#seq = `{${target.prefix}}:seq`;
    this.#versions = `{${target.prefix}}:versions`;
    this.#stream = `{${target.prefix}}:events`;
    this.#eventIds = `{${target.prefix}}:event-ids`;
    this.#eventUsers = `{${target.prefix}}:event-users`;
    this.#storeId = `{${target.prefix}}:store-id`;
  }

  async appendEvents(events: readonly NewEvent[], options: BackendAppendOptions = {}): Promise<AppendResult[]> {
    // Scripts of at most APPEND_SCRIPT_MAX_EVENTS events, in order: the counter adds are applied
    // exactly for the events newly logged (a repeat in a later script finds the first in the ids
    // hash). Every key shares the control hash tag, so this works on a cluster too. A single server
    // gets them pipelined on one connection, which keeps their order; a cluster one after the other,
    // since a redirect (resharding) could reorder pipelined commands. A failure part-way leaves the
    // earlier scripts' events logged but unacknowledged: retried with the same eventIds, they are
    // recognised.
    const scripts: (() => Promise<AppendResult[]>)[] = [];
    for (let from = 0; from < events.length; from += APPEND_SCRIPT_MAX_EVENTS) {
      const to = Math.min(events.length, from + APPEND_SCRIPT_MAX_EVENTS);
      scripts.push(() => this.#appendScript(events.slice(from, to), options.counters?.adds.slice(from, to), options.counters?.keepMs));
    }
    if (this.#kind === 'single') return (await Promise.all(scripts.map((run) => run()))).flat();
    const out: AppendResult[] = [];
    for (const run of scripts) out.push(...(await run()));
    return out;
  }

  async #appendScript(events: readonly NewEvent[], adds: readonly (CounterAdd | undefined)[] | undefined, keepMsOption: number | undefined): Promise<AppendResult[]> {
    const keys = [this.#stream, this.#eventIds, this.#eventUsers];
    const slot = new Map<string, number>();
    const keyIndex = (key: string): number => {
      let at = slot.get(key);
      if (at === undefined) slot.set(key, (at = keys.push(key)));
      return at;
    };
    const keepMs = Math.max(1, Math.ceil(keepMsOption ?? 1));
    const args: string[] = [String(keepMs)];
    events.forEach((e, j) => {
      const add = adds?.[j];
      const counter = add ? keyIndex(this.#counterKey(add.bucket)) : 0;
      args.push(e.eventId, encodeEvent(e), e.userId, String(keyIndex(this.#userEventsKey(e.userId))), String(counter), add?.itemId ?? '', String(add?.amount ?? 0));
    });
    const reply = (await this.#conn.send(this.#stream, ['EVAL', APPEND_EVENTS_SCRIPT, String(keys.length), ...keys, ...args])) as unknown[];
    const out: AppendResult[] = [];
    for (let j = 0; j < events.length; j++) {
      const event = parseStored(String(reply[3 * j + 1]));
      if (Number(reply[3 * j]) === 1) {
        out.push({ event, duplicate: true });
        continue;
      }
      const after = Number(reply[3 * j + 2]);
      out.push({ event, duplicate: false, userCursor: { before: String(after - 1), after: String(after) } });
    }
    return out;
  }

  async userEvents(userId: string): Promise<StoredEvent[]> {
    return (await this.userEventsAfter(userId)).events;
  }

  async userEventsAfter(userId: string, cursor?: string): Promise<UserEventsPage> {
    // The cursor is how many of the user's events were seen: the list only grows at its end.
    const key = this.#userEventsKey(userId);
    const from = cursor === undefined ? 0 : Number(cursor);
    const start = Number.isSafeInteger(from) && from >= 0 ? from : 0;
    const values = (await this.#conn.send(key, ['LRANGE', key, String(start), '-1'], { timeoutMs: this.#readTimeoutMs })) as string[];
    return { events: values.map(parseStored), cursor: String(start + values.length) };
  }

  async eventUsers(): Promise<string[]> {
    return (await this.#conn.send(this.#eventUsers, ['SMEMBERS', this.#eventUsers])) as string[];
  }

  async *scanEvents(options: ScanOptions = {}): AsyncIterable<StoredEvent> {
    const count = String(options.pageSize ?? 1_000);
    let start = '-';
    for (;;) {
      const page = (await this.#conn.send(this.#stream, ['XRANGE', this.#stream, start, '+', 'COUNT', count])) as [string, string[]][];
      if (page.length === 0) return;
      for (const [id, fields] of page) {
        start = `(${id}`;
        const e = decodeEvent(fields[fields.indexOf('e') + 1], id);
        if (options.sinceTs === undefined || e.ts >= options.sinceTs) yield e;
      }
    }
  }

  async addItemCounters(bucket: string, amounts: ReadonlyMap<string, number>, keepMs: number): Promise<void> {
    if (amounts.size === 0) return;
    const key = this.#counterKey(bucket);
    const args = [String(Math.max(1, Math.ceil(keepMs)))];
    for (const [itemId, amount] of amounts) args.push(itemId, String(amount));
    await this.#conn.send(key, ['EVAL', ADD_COUNTERS_SCRIPT, '1', key, ...args]);
  }

  async topItemCounters(bucket: string, limit: number): Promise<ItemCounter[]> {
    if (limit <= 0) return [];
    const key = this.#counterKey(bucket);
    const [top, tied] = (await this.#conn.send(key, ['EVAL', TOP_COUNTERS_SCRIPT, '1', key, String(limit)], { timeoutMs: this.#readTimeoutMs })) as [unknown[], unknown[]];
    const above = counterPairs(top);
    const cut = above.at(-1)?.value;
    // The tied members replace those of the cut's score in `top` (a subset of them).
    const all = tied.length > 0 ? [...above.filter((c) => c.value !== cut), ...counterPairs(tied)] : above;
    return all.sort(byCounterValue).slice(0, limit);
  }

  #counterKey(bucket: string): string {
    return `{${this.#prefix}}:pop:${bucket}`;
  }

  #userEventsKey(userId: string): string {
    return `{${this.#prefix}}:ue:${userId}`;
  }

  async storeId(create: boolean): Promise<string | undefined> {
    if (create) await this.#conn.send(this.#storeId, ['SET', this.#storeId, randomUUID(), 'NX']);
    const id = (await this.#conn.send(this.#storeId, ['GET', this.#storeId])) as string | null;
    return id ?? undefined;
  }

  async ping(): Promise<void> {
    // A GET of a control key reaches the node that matters for readers, in a cluster too.
    await this.#conn.send(this.#active, ['GET', this.#active], { timeoutMs: this.#readTimeoutMs });
  }

  close(): Promise<void> {
    return this.#conn.close();
  }

  async readActive(): Promise<number | null> {
    const v = await this.#conn.send(this.#active, ['GET', this.#active], { timeoutMs: this.#readTimeoutMs });
    return v === null || v === undefined ? null : Number(v);
  }

  async readVersions(): Promise<VersionRecord[]> {
    const values = (await this.#conn.send(this.#versions, ['HVALS', this.#versions])) as string[];
    return values.map((v) => parseRecord(v, this.description));
  }

  async readVersion(version: number): Promise<VersionRecord | undefined> {
    const v = (await this.#conn.send(this.#versions, ['HGET', this.#versions, String(version)], { timeoutMs: this.#readTimeoutMs })) as string | null;
    return v === null ? undefined : parseRecord(v, this.description);
  }

  async createVersion(build: (version: number) => VersionRecord): Promise<VersionRecord> {
    // The counter and the versions hash share the control hash tag: one script sees both.
    const version = Number(await this.#conn.send(this.#versions, ['EVAL', ALLOCATE_VERSION_SCRIPT, '2', this.#seq, this.#versions]));
    const record = build(version);
    await this.#conn.send(this.#versions, ['HSET', this.#versions, String(version), JSON.stringify(record)]);
    return record;
  }

  async updateVersion(record: VersionRecord, from: readonly VersionStatus[], refuseActive: boolean): Promise<UpdateResult> {
    return (await this.#eval(UPDATE_SCRIPT, [String(record.version), JSON.stringify(record), refuseActive ? '1' : '0', ...from])) as UpdateResult;
  }

  async setActive(version: number): Promise<SetActiveResult> {
    return (await this.#eval(SET_ACTIVE_SCRIPT, [String(version)])) as SetActiveResult;
  }

  async removeVersion(version: number): Promise<UpdateResult> {
    return (await this.#eval(REMOVE_SCRIPT, [String(version)])) as UpdateResult;
  }

  planLayout(expected: Partial<VersionCounts>): Readonly<Record<string, number>> {
    const layout: Record<string, number> = {};
    for (const c of ALL_COLLECTIONS) layout[c] = shardCount(expected[c] ?? 0, this.#kind === 'single' && c !== COLLECTIONS.catalog ? SINGLE_SERVER_SHARD_TARGET : SHARD_TARGET);
    return layout;
  }

  async writeEntries(place: VersionPlace, collection: Collection, entries: readonly DataEntry[]): Promise<void> {
    const fields = entries.map((e) => ({ hash: this.#dataKey(place, collection, e.key), field: e.key, value: e.value }));
    // Pipelined (per node in a cluster) a window at a time; see redis-hash-writes.ts.
    await writeHsets(this.#conn, planHsets(fields, HSET_MAX_BYTES), this.#writes);
  }

  async writeUserListsIfCurrent(place: VersionPlace, entries: readonly CursorEntry[]): Promise<string[]> {
    const byHash = new Map<string, (string | Buffer)[][]>();
    for (const e of entries) {
      // Redis user cursors count the user's events (see userEventsAfter).
      if (!/^\d{1,15}$/.test(e.cursor)) throw new TypeError(`user cursor ${JSON.stringify(e.cursor)} of ${e.key} is not an event count`);
      const hash = this.#dataKey(place, COLLECTIONS.userRecs, e.key);
      let scripts = byHash.get(hash);
      if (!scripts) byHash.set(hash, (scripts = []));
      let args = scripts.at(-1);
      if (!args || args.length >= 3 * LIST_SCRIPT_MAX_LISTS) scripts.push((args = []));
      args.push(e.key, e.value, e.cursor);
    }
    const replies = await Promise.all(
      [...byHash].flatMap(([hash, scripts]) => scripts.map((args) => this.#conn.send(hash, ['EVAL', WRITE_LISTS_IF_CURRENT_SCRIPT, '2', hash, cursorKey(hash), ...args]) as Promise<string[]>)),
    );
    return replies.flat().map(String);
  }

  readEntry<T>(place: VersionPlace, collection: Collection, key: string, decode: (bytes: Uint8Array) => T): Promise<T | undefined> {
    return this.#reads.read(this.#dataKey(place, collection, key), key).then((v) => (v === null ? undefined : decode(v)));
  }

  async countEntries(place: VersionPlace, collection: Collection): Promise<number> {
    const counts = await Promise.all(this.#shardKeys(place, collection).map((k) => this.#conn.send(k, ['HLEN', k])));
    return counts.reduce<number>((sum, n) => sum + Number(n), 0);
  }

  async readAllValues(place: VersionPlace, collection: Collection): Promise<Buffer[]> {
    const parts = await Promise.all(this.#shardKeys(place, collection).map((k) => this.#conn.send(k, ['HVALS', k], { buffers: true })));
    return (parts as Buffer[][]).flat();
  }

  async deleteData(place: VersionPlace): Promise<void> {
    const keys = ALL_COLLECTIONS.flatMap((c) => this.#shardKeys(place, c));
    keys.push(...this.#shardKeys(place, COLLECTIONS.userRecs).map(cursorKey));
    await unlinkKeys(this.#conn, keys);
  }

  async scanData(): Promise<DataScan> {
    // A walk over every master's keyspace: the layout of a version without a record is unknown,
    // and a late writer may have recreated any of its hashes.
    const found = await scanVersionKeys(this.#conn, this.#prefix);
    return {
      versions: [...found.keys()],
      deleteVersions: (versions) => unlinkKeys(this.#conn, versions.flatMap((v) => [...(found.get(v) ?? [])])),
    };
  }

  #shards(place: VersionPlace, collection: Collection): number {
    return place.layout[collection] ?? 1;
  }

  #dataKey(place: VersionPlace, collection: Collection, key: string): string {
    const shards = this.#shards(place, collection);
    const shard = shards === 1 ? 0 : fnv1a32(key) % shards;
    return `${this.#prefix}:v${place.version}:${collection}:${shard}`;
  }

  #shardKeys(place: VersionPlace, collection: Collection): string[] {
    const n = this.#shards(place, collection);
    return Array.from({ length: n }, (_, s) => `${this.#prefix}:v${place.version}:${collection}:${s}`);
  }

  #eval(script: string, args: readonly string[]): Promise<unknown> {
    return this.#conn.send(this.#versions, ['EVAL', script, '2', this.#versions, this.#active, ...args]);
  }
}

/**
 * The hash keeping the cursor of each list in user-list hash `hash` (see putUserRecsIfCurrent): its
 * hash tag is the whole data key, which has none, so both are in the same cluster slot.
 */
function cursorKey(hash: string): string {
  return `{${hash}}:cursors`;
}

/** Power-of-two shard count giving about `target` entries per hash. */
function shardCount(expected: number, target: number): number {
  let n = 1;
  while (n < MAX_SHARDS && n * target < expected) n *= 2;
  return n;
}

function parseStored(text: string): StoredEvent {
  const doc = JSON.parse(text) as { seq: string };
  return decodeEvent(text, doc.seq);
}

function parseRecord(text: string, where: string): VersionRecord {
  try {
    return JSON.parse(text) as VersionRecord;
  } catch (err) {
    throw new RecError('RTREC_ERR_STORE_CORRUPT', `${where}: a version record is not JSON`, { cause: err });
  }
}

/** ZRANGE … WITHSCORES pairs as a script returns them: a flat member, score text list. */
function counterPairs(reply: unknown[]): ItemCounter[] {
  const out: ItemCounter[] = [];
  for (let j = 0; j + 1 < reply.length; j += 2) out.push({ itemId: String(reply[j]), value: Number(reply[j + 1]) });
  return out;
}
