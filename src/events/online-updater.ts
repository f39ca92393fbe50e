/**
 * @module The online update: after events are logged, each affected user's interactions are rebuilt
 * from the store (training row + the user's logged events, see user-interactions.ts), the model
 * folds the user in with its item side fixed (for ALS, the least-squares user step; EASE, its item
 * vector product) and the user's top-K list is overwritten in the served version. Everything is
 * derived from the log, so recomputing is idempotent, any instance sharing the store can do it, and
 * a new version is caught up by recomputing every user with events (`catchUp`, run on activation
 * and retried with backoff until every user is written or a newer version takes over, see
 * catch-up.ts; a group still on its way for the previous version when the catch-up begins applies
 * itself to the new version too, see #catchUpNewest).
 * Events the version's model was trained on (its events watermark, see learned-events.ts) are left
 * out when read back, so they do not count twice.
 *
 * Group commit: events of all `ingest` calls made in the same event-loop turn (concurrent requests),
 * or while earlier groups are still being logged, are logged together with their live-popularity
 * counts in one append (one transaction or script), and the lists of all their users are written in
 * one batch (on LMDB inside that same transaction, see #appendWithLists); each call still gets its
 * own per-event results. Per user, the folded interactions, the log cursor they reach and the list
 * are kept (fold-cache.ts), so an event reads and folds only what was logged since the user's last
 * update (including other instances' events), and an event that only excludes an item (a view under
 * a rating model) derives the new list from the old one without rescoring (list-ranking.ts). The
 * lists computed in full are folded in and ranked for the whole group at once by the FoldRanker
 * (fold-ranker.ts: on worker threads in the server, so reads are answered meanwhile).
 *
 * Updates of one user are serialised within a process, the list write included. Across instances,
 * every list is written only if it is current (in the append's transaction, or putUserRecsIfCurrent):
 * a list computed before another instance logged an event for the user and wrote a newer list never
 * replaces that one; the refused user is folded again from where its log moved on. So a catch-up
 * (on every rolling restart) cannot undo another instance's read-your-writes.
 *
 * This module is the ingest side: grouping calls, the append (with the lists, on stores that write
 * them together) and answering each call. Folding users in and writing their lists is in
 * list-writer.ts, the catch-up of a whole version in catch-up.ts.
 */
import { mapInSlices } from '../core/slices.js';
import type { TrainedModel } from '../models/trained-model.js';
import type { Ranked } from '../models/recommender.js';
import type { AppendOptions, AppendResult, CounterAdd, EventSync, NewEvent, StoredEvent } from '../store/event-log.js';
import type { OnlineStore } from '../store/online-store.js';
import { notUpdated, runCatchUp, updateAll, type CatchUpContext, type CatchUpOptions, type CatchUpOutcome } from './catch-up.js';
import type { EventConfig } from './event-config.js';
import { FoldCache, DEFAULT_FOLD_CACHE_USERS, type FoldEntry } from './fold-cache.js';
import { listsFor } from './list-ranking.js';
import { foldUser, PLAN_SLICE, rememberFold, topKOf, writeLists, type ListWriterContext } from './list-writer.js';
import { inlineFoldRanker, type FoldRanker } from './fold-ranker.js';
import type { ModelSource, ServedVersion } from './model-source.js';
import type { LivePopularity } from './live-popularity.js';
import { groupByUser, outcomeOf, type Applied } from './group-results.js';
import { failedBecause, joinReasons, plainReason, type NotApplied } from './not-applied.js';
import { UserLocks } from './user-locks.js';
import { foldEvents } from './user-interactions.js';

/** Groups being logged at once; later calls wait and are grouped together (see #flush). */
const MAX_GROUPS_IN_FLIGHT = 2;
/** Events logged in one group at most; further concurrent calls start the next group. */
const MAX_GROUP_EVENTS = 1_000;

export interface UpdateTarget extends ServedVersion {
  readonly itemIndex: ReadonlyMap<string, number>;
  /** The version's published popular list: what users without positive interactions get (list-ranking.ts). */
  readonly popular: Ranked;
}

export interface IngestOutcome {
  /** Per event, in input order. */
  readonly results: readonly AppendResult[];
  /** Users whose lists were rewritten in `version`. */
  readonly updatedUsers: number;
  /** The version written to, or null when no list was rewritten. */
  readonly version: number | null;
  /** Why lists were not rewritten (no version served, no usable model, store failure). */
  readonly notApplied?: NotApplied;
}

export interface OnlineUpdaterOptions {
  /** Durability an ingest waits for before resolving (see AppendOptions.sync). Default 'commit'. */
  readonly sync?: EventSync;
  /** Users whose folded interactions are remembered between events (LRU). Default DEFAULT_FOLD_CACHE_USERS. */
  readonly cachedUsers?: number;
  /** Where users are folded in and ranked (fold-ranker.ts). Default: on the event loop. */
  readonly ranker?: FoldRanker;
}

interface Pending {
  readonly target: UpdateTarget | undefined;
  readonly events: readonly NewEvent[];
  readonly resolve: (outcome: IngestOutcome) => void;
  readonly reject: (err: unknown) => void;
}

/** A group's append: its results (and what it did to the lists), or why it failed. */
type Logged = { readonly results: AppendResult[]; readonly applied?: Applied; readonly error?: undefined } | { readonly results?: undefined; readonly error: unknown };

export class OnlineUpdater {
  readonly #store: OnlineStore;
  readonly #config: EventConfig;
  readonly #models: ModelSource;
  readonly #popularity: LivePopularity | undefined;
  readonly #sync: EventSync;
  readonly #cache: FoldCache;
  readonly #locks = new UserLocks();
  /** The version of the latest rebuild: groups aimed at another version are applied to it too. */
  #newest: UpdateTarget | undefined;
  #pending: Pending[] = [];
  #flushScheduled = false;
  #inFlight = 0;
  readonly #ranker: FoldRanker;
  /** What list-writer.ts and catch-up.ts work with: this updater's state, passed explicitly. */
  readonly #lists: ListWriterContext;
  readonly #catchUps: CatchUpContext;

  /** With `popularity`, newly logged events also count towards the live popular list. */
  constructor(store: OnlineStore, config: EventConfig, models: ModelSource, popularity?: LivePopularity, options: OnlineUpdaterOptions = {}) {
    this.#store = store;
    this.#config = config;
    this.#models = models;
    this.#popularity = popularity;
    this.#sync = options.sync ?? 'commit';
    this.#cache = new FoldCache(options.cachedUsers ?? DEFAULT_FOLD_CACHE_USERS);
    this.#ranker = options.ranker ?? inlineFoldRanker();
    this.#lists = { store, config, cache: this.#cache, ranker: this.#ranker };
    this.#catchUps = { store, models, ranker: this.#ranker, updateBatch: (target, model, byUser) => this.#updateBatch(target, model, byUser) };
  }

  get config(): EventConfig {
    return this.#config;
  }

  /**
   * Logs `events` (durably), then rewrites the lists of their users in `target`. Users of duplicate
   * events are recomputed too, so a retry after a crash between logging and updating completes it.
   * Calls made in the same event-loop turn share one append and one list write (see module doc).
   * Rejects only when logging fails; update failures are reported in `notApplied`.
   */
  ingest(target: UpdateTarget | undefined, events: readonly NewEvent[]): Promise<IngestOutcome> {
    if (events.length === 0) return Promise.resolve({ results: [], updatedUsers: 0, version: null });
    return new Promise<IngestOutcome>((resolve, reject) => {
      this.#pending.push({ target, events, resolve, reject });
      if (this.#flushScheduled) return;
      this.#flushScheduled = true;
      // setImmediate runs after the poll phase: every request parsed in this turn is in the group.
      setImmediate(() => this.#flush());
    });
  }

  #flush(): void {
    this.#flushScheduled = false;
    // While MAX_GROUPS_IN_FLIGHT groups are being logged, later calls wait and join one bigger group:
    // commits are serialised (one fsync each on LMDB), so batching what arrives meanwhile is what
    // keeps up with load, and it costs nothing when the store is idle.
    if (this.#inFlight >= MAX_GROUPS_IN_FLIGHT || this.#pending.length === 0) return;
    const pending = this.#pending;
    this.#pending = [];
    let group: Pending[] = [];
    let size = 0;
    for (const p of pending) {
      if (group.length > 0 && (p.target !== group[0].target || size + p.events.length > MAX_GROUP_EVENTS)) {
        this.#start(group);
        group = [];
        size = 0;
      }
      group.push(p);
      size += p.events.length;
    }
    if (group.length > 0) this.#start(group);
  }

  #start(group: readonly Pending[]): void {
    this.#inFlight++;
    void this.#ingestGroup(group)
      .catch((err: unknown) => {
        // Unexpected (failures are answered inside): settle every call rather than leave it hanging.
        for (const p of group) p.reject(err);
      })
      .finally(() => {
        this.#inFlight--;
        if (this.#pending.length > 0 && !this.#flushScheduled) {
          this.#flushScheduled = true;
          setImmediate(() => this.#flush());
        }
      });
  }

  async #ingestGroup(group: readonly Pending[]): Promise<void> {
    const target = group[0].target;
    const events = group.length === 1 ? group[0].events : group.flatMap((p) => p.events);
    const popularity = this.#popularity;
    // Counting in the append itself (same store) saves a transaction or round trip per group and
    // counts exactly the newly logged events: a retried duplicate was counted when first accepted.
    const fused = popularity !== undefined && popularity.counters === this.#store;
    const options: AppendOptions = { sync: this.#sync, ...(fused ? { counters: { adds: countsOf(popularity, events, this.#config), keepMs: popularity.keepMs } } : {}) };
    const lookup = await this.#modelOf(target);
    let logged: Logged;
    if (target && lookup.model && this.#store.writesListsWithEvents) {
      const { model } = lookup;
      const users = [...new Set(events.map((e) => e.userId))];
      logged = await this.#locks.run(users, () => this.#appendWithLists(target, model, users, events, options));
    } else {
      logged = await this.#append(events, options);
      if (logged.results) logged = { results: logged.results, applied: await this.#applyToLists(target, lookup, logged.results) };
    }
    if (!logged.results) {
      for (const p of group) p.reject(logged.error);
      return;
    }
    const { results, applied } = logged;
    const problems: NotApplied[] = [];
    const switched = await this.#catchUpNewest(target, results);
    if (switched) problems.push(switched);
    // Counted after the log is durable and before answering; a failure here loses the live count of
    // these events only (the log keeps them for the next training), so it does not fail the request.
    if (popularity && !fused) {
      try {
        await popularity.record(results.filter((r) => !r.duplicate).map((r) => r.event), this.#config);
      } catch (err) {
        problems.push(failedBecause('the live popularity could not be updated', err));
      }
    }
    let offset = 0;
    for (const p of group) {
      const mine = results.slice(offset, offset + p.events.length);
      offset += p.events.length;
      p.resolve(outcomeOf(mine, target, applied ?? { notApplied: NO_VERSION }, problems.reduce<NotApplied | undefined>(joinReasons, undefined)));
    }
  }

  /**
   * When a rebuild for another version than `target` has begun (a switch while this group was on
   * its way), the rebuild may have read the users with events before this group was logged: their
   * lists are recomputed in that version too, before the group is answered (reads already go to it).
   * Returns why that failed, if it did.
   */
  async #catchUpNewest(target: UpdateTarget | undefined, results: readonly AppendResult[]): Promise<NotApplied | undefined> {
    const newest = this.#newest;
    if (!newest || newest.version === target?.version) return undefined;
    const what = `version ${newest.version} (being switched to) was not updated`;
    try {
      const done = await this.updateUsers(newest, [...groupByUser(results).keys()]);
      return typeof done === 'number' ? undefined : { reason: `${what}: ${done.reason}`, detail: `${what}: ${done.detail}` };
    } catch (err) {
      return failedBecause(what, err);
    }
  }

  async #append(events: readonly NewEvent[], options: AppendOptions): Promise<Logged> {
    try {
      return { results: await this.#store.appendEvents(events, options) };
    } catch (error) {
      return { error };
    }
  }

  /**
   * One transaction for the log and the lists (stores with writesListsWithEvents): each user's list
   * is computed from the user's remembered (or freshly read) interactions plus this group's events,
   * and the store writes it with the append only if nothing else was logged for the user meanwhile;
   * the others are recomputed after. Runs holding the users' locks.
   */
  async #appendWithLists(target: UpdateTarget, model: TrainedModel, users: readonly string[], events: readonly NewEvent[], options: AppendOptions): Promise<Logged> {
    const planned = new Map<string, { cursor: string; ranked: Ranked }>();
    const plans = new Map<string, FoldEntry>();
    try {
      const mine = new Map<string, StoredEvent[]>();
      const ids = new Set<string>();
      for (const e of events) {
        // A repeated eventId in the group is a duplicate: the store logs only the first.
        if (ids.has(e.eventId)) continue;
        ids.add(e.eventId);
        const list = mine.get(e.userId);
        const stored = { ...e, seq: '' };
        if (list) list.push(stored);
        else mine.set(e.userId, [stored]);
      }
      // A remembered user is planned from memory without reading: if another instance logged an
      // event for the user meanwhile, the store sees it in the transaction and the list is redone.
      const bases = await mapInSlices(users, PLAN_SLICE, (u) => {
        const known = this.#cache.get(u, target.version, model);
        return known ?? foldUser(this.#lists, target, model, u, undefined).then((f) => rememberFold(this.#cache, u, target, model, f, undefined));
      });
      const itemIndex = (id: string) => target.itemIndex.get(id);
      const jobs = await mapInSlices(users, PLAN_SLICE, (userId, j) => ({
        userId,
        mine: foldEvents(bases[j].interactions, mine.get(userId) ?? [], itemIndex, this.#config, model.info.training.explicitFeedback),
        prev: bases[j],
      }));
      const updates = await listsFor(model, topKOf(target), jobs, this.#ranker, target.popular);
      for (let j = 0; j < users.length; j++) {
        const update = updates[j];
        if (!update) continue;
        const base = bases[j];
        planned.set(users[j], { cursor: base.cursor, ranked: update.ranked });
        plans.set(users[j], { version: target.version, model, cursor: base.cursor, interactions: jobs[j].mine, list: { k: update.k, extended: update.extended, exhaustive: update.exhaustive }, written: true });
      }
    } catch {
      // Planning is an optimisation: without it the lists are computed after the append.
      planned.clear();
    }
    let results: AppendResult[];
    try {
      results = await this.#store.appendEvents(events, { ...options, lists: { version: target.version, users: planned } });
    } catch (error) {
      return { error };
    }
    const written = new Set<string>();
    const redo = new Map<string, readonly AppendResult[]>();
    for (const [userId, rs] of groupByUser(results)) {
      const plan = plans.get(userId);
      const last = rs.at(-1)?.userCursor?.after;
      if (plan && planned.has(userId) && last !== undefined && rs.every((r) => r.listWritten === true)) {
        written.add(userId);
        this.#cache.set(userId, { ...plan, cursor: last });
      } else {
        redo.set(userId, rs);
      }
    }
    if (redo.size === 0) return { results, applied: { written } };
    try {
      for (const u of await writeLists(this.#lists, target, model, redo)) written.add(u);
      return { results, applied: { written } };
    } catch (err) {
      return { results, applied: { notApplied: failedBecause(listsOf(target), err) } };
    }
  }

  async #modelOf(target: UpdateTarget | undefined): Promise<{ model: TrainedModel } | { model?: undefined; why: NotApplied }> {
    if (!target) return { why: NO_VERSION };
    try {
      const found = await this.#models.modelFor(target);
      return found.model ? { model: found.model } : { why: lookupFailure(found) };
    } catch (err) {
      return { why: failedBecause(listsOf(target), err) };
    }
  }

  async #applyToLists(target: UpdateTarget | undefined, lookup: { model: TrainedModel } | { model?: undefined; why: NotApplied }, results: readonly AppendResult[]): Promise<Applied> {
    if (!lookup.model) return { notApplied: lookup.why };
    if (!target) return { notApplied: NO_VERSION };
    try {
      return { written: await this.#updateBatch(target, lookup.model, groupByUser(results)) };
    } catch (err) {
      return { notApplied: failedBecause(listsOf(target), err) };
    }
  }

  /**
   * Recomputes the lists of `userIds` in `target`; returns how many were written, or why none. A
   * batch that fails does not stop the later ones.
   * @throws when some batch failed, after all were tried: how many users were not updated, and why
   */
  async updateUsers(target: UpdateTarget, userIds: readonly string[]): Promise<number | NotApplied> {
    const found = await this.#models.modelFor(target);
    if (!found.model) return lookupFailure(found);
    const pass = await updateAll(this.#catchUps, target, found.model, userIds, () => false);
    if (pass.failed.length > 0) throw notUpdated(pass, userIds.length);
    return pass.written;
  }

  /** Recomputes every user with events in `target` (a version just activated), once; see catchUp. */
  async rebuild(target: UpdateTarget): Promise<number | NotApplied> {
    // Set before the users are read: a group logged after the read sees it and catches up itself.
    this.#newest = target;
    return this.updateUsers(target, await this.#store.eventUsers());
  }

  /**
   * Recomputes every user with events in `target` (a version just activated), trying again until
   * all are written: after a failed attempt (the store failed, or no model for the version yet, e.g.
   * its model folder not deployed) it waits `retryMs[attempt - 1]` (the last delay repeats) and
   * retries the users still missing (all of them when the users or the model could not be read).
   * Stops early when a later catchUp or rebuild supersedes it, when `signal` aborts, or when the
   * model source says waiting cannot help (ModelLookup.final: e.g. no model folder configured).
   */
  catchUp(target: UpdateTarget, options: CatchUpOptions = {}): Promise<CatchUpOutcome> {
    this.#newest = target;
    return runCatchUp(this.#catchUps, target, options, () => this.#newest !== target);
  }

  /**
   * Folds in every user of `byUser` (with the events this process just logged for them, if any) and
   * writes their lists in one batch, holding each user's lock throughout. Returns the users written.
   */
  #updateBatch(target: UpdateTarget, model: TrainedModel, byUser: ReadonlyMap<string, readonly AppendResult[] | undefined>): Promise<Set<string>> {
    return this.#locks.run([...byUser.keys()], () => writeLists(this.#lists, target, model, byUser));
  }
}

const NO_VERSION = plainReason('no published version is loaded');

/** What failed when a version's lists could not be written (says which version, for the client). */
function listsOf(target: { readonly version: number }): string {
  return `the lists of version ${target.version} could not be updated`;
}

/** A model lookup's failure as a reason for the client and a detail for the log. */
function lookupFailure(found: { readonly reason: string; readonly detail?: string }): NotApplied {
  return { reason: found.reason, detail: found.detail ?? found.reason };
}

/** The live-popularity add of each event (same index), all at one `now`. */
function countsOf(popularity: LivePopularity, events: readonly NewEvent[], config: EventConfig): (CounterAdd | undefined)[] {
  const now = popularity.now();
  return events.map((e) => popularity.counterAdd(e, config, now));
}
