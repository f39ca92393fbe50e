/**
 * @module Hash-field reads gathered per event-loop turn: the reads of one turn that fall in the same
 * hash go out as one HMGET. A server answering tens of thousands of requests a second does one read
 * per request; node-redis already pipelines them, but each command still costs its own encoding,
 * queue entry, promise, reply parse and reply deadline in this process (about 3 µs, measured for
 * BENCHMARKS.md's serving rows). How many reads share a command depends on the layout: a single
 * server keeps each list collection in one hash (redis-store.ts), so a turn's reads become one
 * command; a cluster spreads lists over many hashes, so there most reads stay one command each.
 *
 * Gathering costs latency: held reads leave one event-loop iteration later than a direct send would.
 * So it adapts: after a turn with a single read, the next turn's first read is sent at once, and only
 * the reads after it are held; a quiet server sends every read at once.
 *
 * Consistency is at least that of separate HGETs: a read goes out in the turn it was asked for, after
 * every command sent before it on the connection (so it sees every write acknowledged before it was
 * asked for), and each HMGET reads its fields atomically.
 */
import type { RedisConn } from './redis-conn.js';

/** Fields per HMGET: bounds one command and reply, and how long Redis spends on it. */
export const MAX_FIELDS_PER_COMMAND = 256;

interface Waiter {
  resolve(value: Buffer | null): void;
  reject(err: unknown): void;
}

/** A hash with the reads of this turn waiting on it. */
interface PendingHash {
  readonly fields: string[];
  readonly waiters: Waiter[];
}

/** Gathers `read(hash, field)` calls into one HMGET per hash and turn; see the module comment. */
export class HashReadBatch {
  readonly #conn: RedisConn;
  readonly #options: { readonly buffers: true; readonly timeoutMs: number };
  #pending = new Map<string, PendingHash>();
  /** True from a turn's first read until its end (the check phase, see read). */
  #inTurn = false;
  #turnReads = 0;
  #lastTurnReads = 0;
  readonly #endTurn = (): void => {
    this.#inTurn = false;
    this.#lastTurnReads = this.#turnReads;
    // A quiet turn's single read went out directly: nothing is held.
    if (this.#pending.size === 0) return;
    const pending = this.#pending;
    this.#pending = new Map();
    for (const [hash, reads] of pending) this.#send(hash, reads);
  };

  /** @param timeoutMs reply deadline of each command (see RedisConn's SendOptions) */
  constructor(conn: RedisConn, timeoutMs: number) {
    this.#conn = conn;
    this.#options = { buffers: true, timeoutMs };
  }

  /**
   * The value of `field` in the hash `hash` as a Buffer, or null when either is missing. Rejects like
   * RedisConn.send (RTREC_ERR_STORE_UNAVAILABLE), together with the other reads of its command.
   */
  read(hash: string, field: string): Promise<Buffer | null> {
    return new Promise<Buffer | null>((resolve, reject) => {
      const waiter = { resolve, reject };
      if (!this.#inTurn) {
        // A turn ends in the check phase, which follows the poll phase in which its requests were
        // read, so their reads are all in by then.
        this.#inTurn = true;
        this.#turnReads = 1;
        setImmediate(this.#endTurn);
        // Held reads go out one loop iteration later than a direct send (node-redis writes in the
        // check phase too, so a command sent from there waits for the next one). When the last turn
        // had a single read there is nothing to share with: send at once, so a quiet server adds no
        // latency and only a busy one gathers.
        if (this.#lastTurnReads <= 1) {
          this.#send(hash, { fields: [field], waiters: [waiter] });
          return;
        }
      } else {
        this.#turnReads++;
      }
      let reads = this.#pending.get(hash);
      if (!reads) this.#pending.set(hash, (reads = { fields: [], waiters: [] }));
      reads.fields.push(field);
      reads.waiters.push(waiter);
      if (reads.fields.length >= MAX_FIELDS_PER_COMMAND) {
        this.#pending.delete(hash);
        this.#send(hash, reads);
      }
    });
  }

  #send(hash: string, { fields, waiters }: PendingHash): void {
    const reply = this.#conn.send(hash, ['HMGET', hash, ...fields], this.#options) as Promise<(Buffer | null)[]>;
    reply.then(
      (values) => {
        for (let j = 0; j < waiters.length; j++) waiters[j].resolve(values[j] ?? null);
      },
      (err: unknown) => {
        for (const w of waiters) w.reject(err);
      },
    );
  }
}
