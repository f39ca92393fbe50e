/**
 * @module The server's view of the active version: a snapshot (version number, item catalogue with
 * metadata, popularity list) loaded once per version and swapped atomically, plus a watcher that
 * re-reads the active pointer every `refreshMs` so a publish or rollback from any other process is
 * picked up without a restart. A request takes one snapshot at its start and uses only it, so it can
 * never mix two versions. The watcher also tracks whether the store answers (readiness, degraded mode).
 */
import { RecError } from '../core/errors.js';
import type { Ranked } from '../models/recommender.js';
import type { Catalog, ItemFields, OnlineStore, VersionRecord } from '../store/online-store.js';

/** Genre masks kept per snapshot (others are built per request from the genre index). */
const MAX_CACHED_GENRES = 256;
const GENRE_FIELDS = ['genres', 'genre'];

export class VersionSnapshot {
  readonly version: number;
  readonly record: VersionRecord;
  readonly catalog: Catalog;
  readonly itemIndex: ReadonlyMap<string, number>;
  readonly popular: Ranked;
  readonly #genreMasks = new Map<string, Uint8Array>();
  /** Items of each genre (lower-cased), built on the first genre query. */
  #genreItems?: Map<string, number[]>;
  /** The mask of a genre no item has: all zeros. */
  #noGenre?: Uint8Array;
  /** JSON text of each item's id and metadata around its score, built on first use (see answer-json.ts). */
  readonly #heads: (string | undefined)[] = [];
  readonly #tails: (string | undefined)[] = [];

  constructor(record: VersionRecord, catalog: Catalog, popular: Ranked) {
    this.version = record.version;
    this.record = record;
    this.catalog = catalog;
    this.popular = popular;
    this.itemIndex = new Map(catalog.ids.map((id, idx) => [id, idx]));
  }

  /**
   * 1 for items whose `genres` (or `genre`) metadata contains `genre`, case-insensitively. The
   * catalogue is scanned once, into an index of the genres it has: a genre no item has costs a
   * lookup, so made-up genres can neither push real ones out of the cache nor make each request
   * scan the catalogue.
   */
  genreMask(genre: string): Uint8Array {
    const key = genre.toLowerCase();
    const cached = this.#genreMasks.get(key);
    if (cached) return cached;
    const n = this.catalog.ids.length;
    const items = (this.#genreItems ??= indexGenres(this.catalog.metadata)).get(key);
    if (!items) return (this.#noGenre ??= new Uint8Array(n));
    const mask = new Uint8Array(n);
    for (const idx of items) mask[idx] = 1;
    if (this.#genreMasks.size < MAX_CACHED_GENRES) this.#genreMasks.set(key, mask);
    return mask;
  }

  /** `{"itemId":"…","score":` of item `idx`: what precedes its score in an answer. */
  itemOpen(idx: number): string {
    return (this.#heads[idx] ??= flatString(`{"itemId":${JSON.stringify(this.catalog.ids[idx])},"score":`));
  }

  /** `,"field":value…}` — the item's metadata fields, closing the object. */
  itemClose(idx: number): string {
    let tail = this.#tails[idx];
    if (tail === undefined) {
      tail = '';
      for (const [k, v] of Object.entries(this.catalog.metadata[idx] ?? {})) {
        if (!RESERVED_FIELDS.has(k)) tail += `,${JSON.stringify(k)}:${JSON.stringify(v)}`;
      }
      this.#tails[idx] = tail = flatString(`${tail}}`);
    }
    return tail;
  }
}

/**
 * `s` as one sequential string. Built by concatenation, it is a tree of pieces that every join into
 * an answer walks again, piece by piece; the fragments are copied into answers on every request.
 */
function flatString(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}

const RESERVED_FIELDS = new Set(['itemId', 'score', 'rank', 'modelVersion']);

/** Lower-cased genre → indices of the items listing it in their `genres` or `genre` field. */
function indexGenres(metadata: readonly (ItemFields | null)[]): Map<string, number[]> {
  const index = new Map<string, number[]>();
  metadata.forEach((meta, idx) => {
    if (!meta) return;
    const genres = new Set<string>();
    for (const field of GENRE_FIELDS) {
      const v = meta[field];
      if (v === undefined) continue;
      for (const g of typeof v === 'string' ? v.split(/[|,]/) : v) genres.add(g.trim().toLowerCase());
    }
    for (const g of genres) {
      const items = index.get(g);
      if (items) items.push(idx);
      else index.set(g, [idx]);
    }
  });
  return index;
}

/** Reads everything a server keeps in memory for `version`. */
export async function loadSnapshot(store: OnlineStore, version: number): Promise<VersionSnapshot> {
  const record = await store.getVersion(version);
  if (!record) throw new RecError('RTREC_ERR_STORE_VERSION_NOT_FOUND', `active version ${version} has no record in ${store.description}`);
  const [catalog, popular] = await Promise.all([store.readCatalog(version), store.getPopular(version)]);
  return new VersionSnapshot(record, catalog, popular ?? { items: new Int32Array(0), scores: new Float32Array(0) });
}

export interface WatcherEvents {
  /** A new snapshot became current. */
  onSwitch?(snapshot: VersionSnapshot, previous: number | null): void;
  /** The store stopped or started answering. */
  onHealth?(healthy: boolean, err?: unknown): void;
}

export class ActiveVersionWatcher {
  readonly #store: OnlineStore;
  readonly #refreshMs: number;
  readonly #events: WatcherEvents;
  #snapshot: VersionSnapshot | undefined;
  #activeInStore: number | null = null;
  #healthy = false;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;

  constructor(store: OnlineStore, options: { refreshMs: number }, events: WatcherEvents = {}) {
    this.#store = store;
    this.#refreshMs = options.refreshMs;
    this.#events = events;
  }

  /** Loads the active version (if the store answers) and starts re-checking it periodically. */
  async start(): Promise<void> {
    await this.refresh();
    this.#timer = setInterval(() => void this.refresh(), this.#refreshMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** The snapshot requests should use, or undefined before any version was loaded. */
  current(): VersionSnapshot | undefined {
    return this.#snapshot;
  }

  get storeHealthy(): boolean {
    return this.#healthy;
  }

  /**
   * Ready to serve personalised answers: the store answers, it has an active version, and a version
   * is loaded. While a newly activated version loads, the previous one keeps serving and the server
   * stays ready: every replica loads at the same moment, and going unready together would take the
   * whole fleet out of its load balancer for the length of the load.
   */
  get ready(): boolean {
    return this.notReadyReason() === undefined;
  }

  /**
   * Why not ready, for /readyz. The store is not named: /readyz is public, and the server's log
   * names it (at start, and when it stops answering).
   */
  notReadyReason(): { code: 'RTREC_ERR_STORE_UNAVAILABLE' | 'RTREC_ERR_STORE_NO_ACTIVE_VERSION'; message: string } | undefined {
    if (!this.#healthy) return { code: 'RTREC_ERR_STORE_UNAVAILABLE', message: 'the online store does not answer' };
    if (this.#activeInStore === null) return { code: 'RTREC_ERR_STORE_NO_ACTIVE_VERSION', message: 'the online store has no active version yet (run rtrec publish)' };
    if (this.#snapshot === undefined) return { code: 'RTREC_ERR_STORE_NO_ACTIVE_VERSION', message: `active version ${this.#activeInStore} is still loading` };
    return undefined;
  }

  /** The active version being loaded while an older one serves, if any. */
  get loading(): number | undefined {
    const active = this.#activeInStore;
    return active !== null && this.#snapshot !== undefined && active !== this.#snapshot.version ? active : undefined;
  }

  /** A request saw the store fail: stop using it until the next successful check. */
  reportStoreError(err: unknown): void {
    this.#setHealthy(false, err);
  }

  /** Re-reads the active pointer now, loading a new snapshot when it moved (one check at a time). */
  refresh(): Promise<void> {
    this.#inFlight ??= this.#check().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  async #check(): Promise<void> {
    let active: number | null;
    try {
      active = await this.#store.activeVersion();
    } catch (err) {
      this.#setHealthy(false, err);
      return;
    }
    this.#activeInStore = active;
    if (active !== null && active !== this.#snapshot?.version) {
      try {
        const next = await loadSnapshot(this.#store, active);
        const previous = this.#snapshot?.version ?? null;
        this.#snapshot = next;
        this.#events.onSwitch?.(next, previous);
      } catch (err) {
        // Keep serving the old snapshot; a version pruned or half-readable is retried next tick.
        if (err instanceof RecError && err.code !== 'RTREC_ERR_STORE_UNAVAILABLE') {
          this.#setHealthy(true);
          return;
        }
        this.#setHealthy(false, err);
        return;
      }
    }
    this.#setHealthy(true);
  }

  #setHealthy(healthy: boolean, err?: unknown): void {
    if (healthy === this.#healthy) return;
    this.#healthy = healthy;
    this.#events.onHealth?.(healthy, err);
  }
}
