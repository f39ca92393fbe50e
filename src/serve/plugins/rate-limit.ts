/**
 * @module Per-client token buckets: each client may burst up to `burst` requests, refilled at `rps`
 * per second. Buckets live in a bounded LRU so a flood of distinct clients cannot grow memory.
 */
import { Lru } from '../../core/lru.js';

interface Bucket {
  tokens: number;
  /** ms (monotonic clock) of the last refill. */
  at: number;
}

export interface TakeResult {
  readonly ok: boolean;
  /** Whole tokens left after this request. */
  readonly remaining: number;
  /** Seconds until one token is available again (0 when ok). */
  readonly retryAfterSeconds: number;
}

export class TokenBuckets {
  readonly #rps: number;
  readonly #burst: number;
  readonly #buckets: Lru<string, Bucket>;
  readonly #now: () => number;

  /** @param now monotonic clock in ms (injectable for tests) */
  constructor(rps: number, burst: number, options: { maxClients?: number; now?: () => number } = {}) {
    this.#rps = rps;
    this.#burst = burst;
    this.#buckets = new Lru(options.maxClients ?? 100_000);
    this.#now = options.now ?? (() => performance.now());
  }

  take(client: string): TakeResult {
    const now = this.#now();
    const b = this.#buckets.get(client) ?? { tokens: this.#burst, at: now };
    b.tokens = Math.min(this.#burst, b.tokens + ((now - b.at) / 1000) * this.#rps);
    b.at = now;
    this.#buckets.set(client, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true, remaining: Math.floor(b.tokens), retryAfterSeconds: 0 };
    }
    return { ok: false, remaining: 0, retryAfterSeconds: Math.max(1, Math.ceil((1 - b.tokens) / this.#rps)) };
  }
}
