/**
 * @module The in-memory interaction log every loader produces and every splitter, trainer and
 * evaluator consumes: parallel typed arrays (one entry per user–item event) plus the id maps.
 */
import { IdMap } from '../core/ids.js';

export interface Interactions {
  readonly users: IdMap;
  readonly items: IdMap;
  /** Number of interactions (rows). */
  readonly length: number;
  /** Dense user index per row. */
  readonly user: Int32Array;
  /** Dense item index per row. */
  readonly item: Int32Array;
  /** Rating / weight per row; null for implicit feedback (every row counts as 1). */
  readonly rating: Float32Array | null;
  /** Unix time in seconds per row; null when the source has none. */
  readonly timestamp: Float64Array | null;
}

/** Item metadata kept beside a data set (title, genres or any other columns of the item file). */
export interface ItemMetadata {
  /** Column names besides the id, e.g. ['title', 'genres']. */
  readonly fields: readonly string[];
  /** itemId → field → value (genres as string[]). */
  readonly byId: ReadonlyMap<string, Readonly<Record<string, string | string[]>>>;
}

export interface Dataset {
  readonly interactions: Interactions;
  readonly itemMetadata: ItemMetadata | null;
  /** Human-readable origin, e.g. the folder or file loaded. */
  readonly source: string;
}

/**
 * Growable column buffers for streaming loaders: append rows without per-row objects, then `build()`
 * trims the arrays to length. Capacity doubles, so appending n rows costs O(n).
 */
export class InteractionsBuilder {
  readonly users: IdMap;
  readonly items: IdMap;
  #length = 0;
  #user: Int32Array = new Int32Array(1024);
  #item: Int32Array = new Int32Array(1024);
  #rating: Float32Array | null;
  #timestamp: Float64Array | null;

  constructor(options: { hasRating: boolean; hasTimestamp: boolean; users?: IdMap; items?: IdMap }) {
    this.users = options.users ?? new IdMap();
    this.items = options.items ?? new IdMap();
    this.#rating = options.hasRating ? new Float32Array(1024) : null;
    this.#timestamp = options.hasTimestamp ? new Float64Array(1024) : null;
  }

  get length(): number {
    return this.#length;
  }

  /** Appends one row; `rating`/`timestamp` are ignored when the builder was made without that column. */
  add(userId: string, itemId: string, rating = 1, timestamp = 0): void {
    this.addIndexed(this.users.getOrAdd(userId), this.items.getOrAdd(itemId), rating, timestamp);
  }

  addIndexed(userIdx: number, itemIdx: number, rating = 1, timestamp = 0): void {
    if (this.#length === this.#user.length) this.#grow();
    const i = this.#length++;
    this.#user[i] = userIdx;
    this.#item[i] = itemIdx;
    if (this.#rating) this.#rating[i] = rating;
    if (this.#timestamp) this.#timestamp[i] = timestamp;
  }

  build(): Interactions {
    const n = this.#length;
    return {
      users: this.users,
      items: this.items,
      length: n,
      user: this.#user.slice(0, n),
      item: this.#item.slice(0, n),
      rating: this.#rating ? this.#rating.slice(0, n) : null,
      timestamp: this.#timestamp ? this.#timestamp.slice(0, n) : null,
    };
  }

  #grow(): void {
    const cap = this.#user.length * 2;
    this.#user = growInt32(this.#user, cap);
    this.#item = growInt32(this.#item, cap);
    if (this.#rating) {
      const r = new Float32Array(cap);
      r.set(this.#rating);
      this.#rating = r;
    }
    if (this.#timestamp) {
      const t = new Float64Array(cap);
      t.set(this.#timestamp);
      this.#timestamp = t;
    }
  }
}

function growInt32(a: Int32Array, cap: number): Int32Array {
  const b = new Int32Array(cap);
  b.set(a);
  return b;
}

/**
 * A subset of rows (by row index) sharing the parent's id maps, so indices stay comparable between
 * train and test after a split.
 */
export function selectRows(source: Interactions, rows: Int32Array | readonly number[]): Interactions {
  const n = rows.length;
  const user = new Int32Array(n);
  const item = new Int32Array(n);
  const rating = source.rating ? new Float32Array(n) : null;
  const timestamp = source.timestamp ? new Float64Array(n) : null;
  for (let j = 0; j < n; j++) {
    const i = rows[j];
    user[j] = source.user[i];
    item[j] = source.item[i];
    if (rating) rating[j] = source.rating![i];
    if (timestamp) timestamp[j] = source.timestamp![i];
  }
  return { users: source.users, items: source.items, length: n, user, item, rating, timestamp };
}

/**
 * The same rows expressed in other id maps: each row's user and item ids are looked up (and added
 * when new) in `users` and `items`, which grow in place. With fresh maps this compacts a subset (for
 * example a train split) to the ids it actually uses; with a clone of a model's maps it indexes a
 * test set the way the model does.
 */
export function reindex(source: Interactions, users: IdMap = new IdMap(), items: IdMap = new IdMap()): Interactions {
  const userMap = new Int32Array(source.users.size).fill(-1);
  const itemMap = new Int32Array(source.items.size).fill(-1);
  const n = source.length;
  const user = new Int32Array(n);
  const item = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    const u = source.user[r], i = source.item[r];
    if (userMap[u] < 0) userMap[u] = users.getOrAdd(source.users.idOf(u));
    if (itemMap[i] < 0) itemMap[i] = items.getOrAdd(source.items.idOf(i));
    user[r] = userMap[u];
    item[r] = itemMap[i];
  }
  return { users, items, length: n, user, item, rating: source.rating, timestamp: source.timestamp };
}

/**
 * Rows of `parts` one after another. All parts must share the same id maps (load the later ones
 * with the first one's `users`/`items`). A rating column is kept only when every part has one; a
 * part without timestamps gets 0 (oldest) so that later parts with times win repeated pairs.
 * @throws Error when the parts use different id maps or only some have ratings.
 */
export function concatInteractions(parts: readonly Interactions[]): Interactions {
  const first = parts[0];
  if (parts.length === 1) return first;
  if (parts.some((p) => p.users !== first.users || p.items !== first.items)) throw new Error('concatInteractions: parts must share id maps');
  const rated = parts.filter((p) => p.rating !== null).length;
  if (rated !== 0 && rated !== parts.length) throw new Error('concatInteractions: some parts have ratings and some do not');
  const timed = parts.some((p) => p.timestamp !== null);
  const n = parts.reduce((sum, p) => sum + p.length, 0);
  const user = new Int32Array(n), item = new Int32Array(n);
  const rating = rated ? new Float32Array(n) : null;
  const timestamp = timed ? new Float64Array(n) : null;
  let at = 0;
  for (const p of parts) {
    user.set(p.user, at);
    item.set(p.item, at);
    if (rating) rating.set(p.rating!, at);
    if (timestamp && p.timestamp) timestamp.set(p.timestamp, at);
    at += p.length;
  }
  return { users: first.users, items: first.items, length: n, user, item, rating, timestamp };
}
