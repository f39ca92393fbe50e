/**
 * @module The online update: after events are logged, each affected user's interactions are rebuilt
 * from the store (training row + the user's logged events, see user-interactions.ts), the model
 * folds the user in with its item side fixed (for ALS, the least-squares user step; EASE, its item
 * vector product) and the user's top-K list is overwritten in the served version. Everything is
 * derived from the log, so recomputing is idempotent, any instance sharing the store can do it, and
 * a new version is caught up by recomputing every user with events (`rebuild`, run on activation).
 *
 * Updates of one user are serialised within a process. Two instances updating the same user at the
 * same moment may finish in either order; each computes from the log as it read it, so the list
 * can miss the other instance's concurrent event until that user's next event or the next rebuild.
 */
import type { TrainedModel } from '../models/trained-model.js';
import type { AppendResult, NewEvent } from '../store/event-log.js';
import type { OnlineStore } from '../store/online-store.js';
import type { EventConfig } from './event-config.js';
import type { ModelSource, ServedVersion } from './model-source.js';
import type { LivePopularity } from './live-popularity.js';
import { userInteractions } from './user-interactions.js';

/** List length when the version's meta does not say (publish records `topK`). */
const DEFAULT_TOP_K = 100;
/** Users recomputed at once during a rebuild. */
const REBUILD_CONCURRENCY = 16;

export interface UpdateTarget extends ServedVersion {
  readonly itemIndex: ReadonlyMap<string, number>;
}

export interface IngestOutcome {
  /** Per event, in input order. */
  readonly results: readonly AppendResult[];
  /** Users whose lists were rewritten in `version`. */
  readonly updatedUsers: number;
  /** The version written to, or null when no list was rewritten. */
  readonly version: number | null;
  /** Why lists were not rewritten (no version served, no usable model, store failure). */
  readonly notApplied?: string;
}

export class OnlineUpdater {
  readonly #store: OnlineStore;
  readonly #config: EventConfig;
  readonly #models: ModelSource;
  readonly #popularity: LivePopularity | undefined;
  readonly #perUser = new Map<string, Promise<void>>();

  /** With `popularity`, newly logged events also count towards the live popular list. */
  constructor(store: OnlineStore, config: EventConfig, models: ModelSource, popularity?: LivePopularity) {
    this.#store = store;
    this.#config = config;
    this.#models = models;
    this.#popularity = popularity;
  }

  get config(): EventConfig {
    return this.#config;
  }

  /**
   * Logs `events` (durably), then rewrites the lists of their users in `target`. Users of duplicate
   * events are recomputed too, so a retry after a crash between logging and updating completes it.
   * Rejects only when logging fails; update failures are reported in `notApplied`.
   */
  async ingest(target: UpdateTarget | undefined, events: readonly NewEvent[]): Promise<IngestOutcome> {
    const results = events.length === 0 ? [] : await this.#store.appendEvents(events);
    if (results.length === 0) return { results, updatedUsers: 0, version: null };
    // Only newly logged events count: a retried duplicate was counted when it was first accepted.
    // Counted after the log is durable and before answering; a failure here loses the live count of
    // these events only (the log keeps them for the next training), so it does not fail the request.
    let popularityError: string | undefined;
    try {
      await this.#popularity?.record(results.filter((r) => !r.duplicate).map((r) => r.event), this.#config);
    } catch (err) {
      popularityError = `the live popularity could not be updated: ${(err as Error).message}`;
    }
    const outcome = await this.#applyToLists(target, results);
    if (popularityError === undefined) return outcome;
    return { ...outcome, notApplied: outcome.notApplied === undefined ? popularityError : `${outcome.notApplied}; ${popularityError}` };
  }

  async #applyToLists(target: UpdateTarget | undefined, results: readonly AppendResult[]): Promise<IngestOutcome> {
    if (!target) return { results, updatedUsers: 0, version: null, notApplied: 'no published version is loaded' };
    const users = [...new Set(results.map((r) => r.event.userId))];
    try {
      const updated = await this.updateUsers(target, users);
      if (typeof updated === 'string') return { results, updatedUsers: 0, version: null, notApplied: updated };
      return { results, updatedUsers: updated, version: target.version };
    } catch (err) {
      return { results, updatedUsers: 0, version: null, notApplied: `the lists could not be updated: ${(err as Error).message}` };
    }
  }

  /** Recomputes the lists of `userIds` in `target`; returns how many were written, or why none. */
  async updateUsers(target: UpdateTarget, userIds: readonly string[]): Promise<number | string> {
    const found = await this.#models.modelFor(target);
    if (!found.model) return found.reason;
    const { model } = found;
    const scratch = new Float32Array(model.numItems);
    let written = 0;
    for (let start = 0; start < userIds.length; start += REBUILD_CONCURRENCY) {
      const chunk = userIds.slice(start, start + REBUILD_CONCURRENCY);
      const done = await Promise.all(chunk.map((u) => this.#serialised(u, () => this.#updateUser(target, model, u, scratch))));
      written += done.filter(Boolean).length;
    }
    return written;
  }

  /** Recomputes every user with events in `target` (a version just activated). */
  async rebuild(target: UpdateTarget): Promise<number | string> {
    return this.updateUsers(target, await this.#store.eventUsers());
  }

  async #updateUser(target: UpdateTarget, model: TrainedModel, userId: string, scratch: Float32Array): Promise<boolean> {
    const events = await this.#store.userEvents(userId);
    const u = model.users.indexOf(userId);
    const known = u >= 0 && u < model.numUsers;
    const { indptr, indices, data } = model.seen;
    const base = known ? { items: indices.subarray(indptr[u], indptr[u + 1]), values: data.subarray(indptr[u], indptr[u + 1]) } : null;
    const ratings = model.info.training.explicitFeedback;
    const mine = userInteractions(base, events, (id) => target.itemIndex.get(id), this.#config, ratings);
    const k = typeof target.record.meta.topK === 'number' ? target.record.meta.topK : DEFAULT_TOP_K;
    const filter = mine.exclude.length > 0 ? { exclude: mine.exclude } : undefined;
    let ranked;
    if (mine.items.length > 0) {
      // The scratch buffer is shared: scoring and top-k run synchronously, before any await.
      ranked = model.recommendFromInteractions(mine.items, mine.values, { k, excludeSeen: true, ...(filter ? { filter } : {}) }, scratch);
    } else if (known) {
      ranked = model.recommend(u, { k, excludeSeen: true, ...(filter ? { filter } : {}) }, scratch);
    } else {
      // Nothing to fold in (e.g. only dislikes or unknown items): the user keeps the popular list.
      return false;
    }
    await this.#store.putUserRecs(target.version, userId, ranked);
    return true;
  }

  #serialised<T>(userId: string, work: () => Promise<T>): Promise<T> {
    const prev = this.#perUser.get(userId) ?? Promise.resolve();
    const next = prev.then(work, work);
    const tail = next.then(
      () => undefined,
      () => undefined,
    );
    this.#perUser.set(userId, tail);
    void tail.then(() => {
      if (this.#perUser.get(userId) === tail) this.#perUser.delete(userId);
    });
    return next;
  }
}
