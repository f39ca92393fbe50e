/**
 * @module A bounded least-recently-used map (a Map keeps insertion order: re-inserting on read moves
 * an entry to the young end, and the oldest entry is evicted first). Used for per-client rate-limit
 * buckets and for what the online update remembers per user.
 */

export class Lru<K, V> {
  readonly #max: number;
  readonly #map = new Map<K, V>();

  /** @param max entries kept; 0 keeps nothing */
  constructor(max: number) {
    this.#max = max;
  }

  get size(): number {
    return this.#map.size;
  }

  get(key: K): V | undefined {
    const v = this.#map.get(key);
    if (v !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, v);
    }
    return v;
  }

  set(key: K, value: V): void {
    if (this.#max === 0) return;
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value as K);
  }

  delete(key: K): void {
    this.#map.delete(key);
  }

  clear(): void {
    this.#map.clear();
  }
}
