/**
 * @module The online update: after events are logged, each affected user's interactions are rebuilt
 * from the store (training row + the user's logged events, see user-interactions.ts), the model
 * folds the user in with its item side fixed (for ALS, the least-squares user step; EASE, its item
 * vector product) and the user's top-K list is overwritten in the served version. Everything is
 * derived from the log, so recomputing is idempotent, any instance sharing the store can do it, and
 * a new version is caught up by recomputing every user with events (`catchUp`, run on activation
 * and retried with backoff until every user is written or a newer version takes over; a group
 * still on its way for the previous version when the catch-up begins applies itself to the new
 * version too, see #catchUpNewest).
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
 */
import { mapInSlices } from '../core/slices.js';
import type { TrainedModel } from '../models/trained-model.js';
import type { Ranked } from '../models/recommender.js';
import { NO_EVENTS_CURSOR, type AppendOptions, type AppendResult, type CounterAdd, type EventSync, type NewEvent, type StoredEvent } from '../store/event-log.js';
import type { CursorList, OnlineStore } from '../store/online-store.js';
import type { EventConfig } from './event-config.js';
import { FoldCache, DEFAULT_FOLD_CACHE_USERS, type FoldEntry } from './fold-cache.js';
import { listsFor, type RankedList } from './list-ranking.js';
import { inlineFoldRanker, type FoldRanker } from './fold-ranker.js';
import type { ModelSource, ServedVersion } from './model-source.js';
import type { LivePopularity } from './live-popularity.js';
import { groupByUser, outcomeOf, type Applied } from './group-results.js';
import { learnedFilterOf, unlearnedEvents } from './learned-events.js';
import { UserLocks } from './user-locks.js';
import { foldEvents, userInteractions, type UserInteractions } from './user-interactions.js';

/** List length when the version's meta does not say (publish records `topK`). */
const DEFAULT_TOP_K = 100;
/** Times a user's list is folded and written again when the store refused it as not current. */
const WRITE_ROUNDS = 3;
/** Users recomputed per batch during a rebuild. */
const REBUILD_BATCH = 256;
/** Groups being logged at once; later calls wait and are grouped together (see #flush). */
const MAX_GROUPS_IN_FLIGHT = 2;
/** Events logged in one group at most; further concurrent calls start the next group. */
const MAX_GROUP_EVENTS = 1_000;
/**
 * Users whose folds are prepared per event-loop turn: reads are answered between slices instead of
 * waiting for a whole group (about 2 ms per slice on a 50k-item catalogue).
 */
const PLAN_SLICE = 100;

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
  readonly notApplied?: string;
}

export interface OnlineUpdaterOptions {
  /** Durability an ingest waits for before resolving (see AppendOptions.sync). Default 'commit'. */
  readonly sync?: EventSync;
  /** Users whose folded interactions are remembered between events (LRU). Default DEFAULT_FOLD_CACHE_USERS. */
  readonly cachedUsers?: number;
  /** Where users are folded in and ranked (fold-ranker.ts). Default: on the event loop. */
  readonly ranker?: FoldRanker;
}

/** Waits before each retry of a catch-up (see catchUp): the last delay repeats. */
export const CATCH_UP_RETRY_MS: readonly number[] = [1_000, 2_000, 5_000, 10_000, 30_000, 60_000];

export interface CatchUpOptions {
  /** Delays before the retries, ms; the last one repeats; empty: no retry. Default CATCH_UP_RETRY_MS. */
  readonly retryMs?: readonly number[];
  /** Aborting stops the retries (the server closing). */
  readonly signal?: AbortSignal;
  /** Told after each failed attempt, before waiting: `users` still missing (undefined: all, to be read again). */
  readonly onRetry?: (retry: { readonly attempt: number; readonly reason: string; readonly users: number | undefined; readonly delayMs: number }) => void;
}

/** How a catch-up ended. */
export type CatchUpOutcome =
  /** Every user with events was recomputed; `users` lists were written. */
  | { readonly state: 'done'; readonly users: number; readonly attempts: number }
  /** A later catch-up (another version served) took over. */
  | { readonly state: 'superseded'; readonly attempts: number }
  /** Lists are not updated for this version and waiting cannot change that (ModelLookup.final). */
  | { readonly state: 'not-applied'; readonly reason: string; readonly attempts: number }
  /** Stopped by the signal (or no retry asked for) after failing for `reason`. */
  | { readonly state: 'stopped'; readonly reason: string; readonly attempts: number };

/** One pass over users: lists written, users not updated (a batch failed, or the pass stopped) and the first failure. */
interface UsersPass {
  readonly written: number;
  readonly failed: readonly string[];
  readonly error: unknown;
  readonly stopped: boolean;
}

interface Pending {
  readonly target: UpdateTarget | undefined;
  readonly events: readonly NewEvent[];
  readonly resolve: (outcome: IngestOutcome) => void;
  readonly reject: (err: unknown) => void;
}

/** A user folded up to `cursor`; `prev` is the remembered entry it started from. */
interface Folded {
  readonly interactions: UserInteractions;
  readonly cursor: string;
  readonly prev: FoldEntry | undefined;
  /** The events folded since `prev` were exactly the ones this process just appended. */
  readonly own: boolean;
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

  /** With `popularity`, newly logged events also count towards the live popular list. */
  constructor(store: OnlineStore, config: EventConfig, models: ModelSource, popularity?: LivePopularity, options: OnlineUpdaterOptions = {}) {
    this.#store = store;
    this.#config = config;
    this.#models = models;
    this.#popularity = popularity;
    this.#sync = options.sync ?? 'commit';
    this.#cache = new FoldCache(options.cachedUsers ?? DEFAULT_FOLD_CACHE_USERS);
    this.#ranker = options.ranker ?? inlineFoldRanker();
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
    const problems: string[] = [];
    const switched = await this.#catchUpNewest(target, results);
    if (switched) problems.push(switched);
    // Counted after the log is durable and before answering; a failure here loses the live count of
    // these events only (the log keeps them for the next training), so it does not fail the request.
    if (popularity && !fused) {
      try {
        await popularity.record(results.filter((r) => !r.duplicate).map((r) => r.event), this.#config);
      } catch (err) {
        problems.push(`the live popularity could not be updated: ${(err as Error).message}`);
      }
    }
    let offset = 0;
    for (const p of group) {
      const mine = results.slice(offset, offset + p.events.length);
      offset += p.events.length;
      p.resolve(outcomeOf(mine, target, applied ?? { notApplied: 'no published version is loaded' }, problems.length > 0 ? problems.join('; ') : undefined));
    }
  }

  /**
   * When a rebuild for another version than `target` has begun (a switch while this group was on
   * its way), the rebuild may have read the users with events before this group was logged: their
   * lists are recomputed in that version too, before the group is answered (reads already go to it).
   * Returns why that failed, if it did.
   */
  async #catchUpNewest(target: UpdateTarget | undefined, results: readonly AppendResult[]): Promise<string | undefined> {
    const newest = this.#newest;
    if (!newest || newest.version === target?.version) return undefined;
    try {
      const done = await this.updateUsers(newest, [...groupByUser(results).keys()]);
      return typeof done === 'string' ? `version ${newest.version} (being switched to) was not updated: ${done}` : undefined;
    } catch (err) {
      return `version ${newest.version} (being switched to) was not updated: ${(err as Error).message}`;
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
        return known ?? this.#fold(target, model, u, undefined).then((f) => this.#remember(u, target, model, f, undefined));
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
      for (const u of await this.#updateUnlocked(target, model, redo)) written.add(u);
      return { results, applied: { written } };
    } catch (err) {
      return { results, applied: { notApplied: `the lists could not be updated: ${(err as Error).message}` } };
    }
  }

  async #modelOf(target: UpdateTarget | undefined): Promise<{ model?: TrainedModel; reason: string }> {
    if (!target) return { reason: 'no published version is loaded' };
    try {
      const found = await this.#models.modelFor(target);
      return found.model ? { model: found.model, reason: '' } : { reason: found.reason };
    } catch (err) {
      return { reason: `the lists could not be updated: ${(err as Error).message}` };
    }
  }

  async #applyToLists(target: UpdateTarget | undefined, lookup: { model?: TrainedModel; reason: string }, results: readonly AppendResult[]): Promise<Applied> {
    if (!target || !lookup.model) return { notApplied: lookup.reason };
    try {
      return { written: await this.#updateBatch(target, lookup.model, groupByUser(results)) };
    } catch (err) {
      return { notApplied: `the lists could not be updated: ${(err as Error).message}` };
    }
  }

  /**
   * Recomputes the lists of `userIds` in `target`; returns how many were written, or why none. A
   * batch that fails does not stop the later ones.
   * @throws when some batch failed, after all were tried: how many users were not updated, and why
   */
  async updateUsers(target: UpdateTarget, userIds: readonly string[]): Promise<number | string> {
    const found = await this.#models.modelFor(target);
    if (!found.model) return found.reason;
    const pass = await this.#updateAll(target, found.model, userIds, () => false);
    if (pass.failed.length > 0) throw notUpdated(pass, userIds.length);
    return pass.written;
  }

  /** Recomputes every user with events in `target` (a version just activated), once; see catchUp. */
  async rebuild(target: UpdateTarget): Promise<number | string> {
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
  async catchUp(target: UpdateTarget, options: CatchUpOptions = {}): Promise<CatchUpOutcome> {
    this.#newest = target;
    const retryMs = options.retryMs ?? CATCH_UP_RETRY_MS;
    const superseded = () => this.#newest !== target;
    let missing: readonly string[] | undefined;
    let written = 0;
    for (let attempt = 1; ; attempt++) {
      let reason: string;
      try {
        const users = missing ?? (await this.#store.eventUsers());
        const found = await this.#models.modelFor(target);
        if (found.model) {
          const pass = await this.#updateAll(target, found.model, users, superseded);
          written += pass.written;
          if (pass.failed.length === 0 && !pass.stopped) return { state: 'done', users: written, attempts: attempt };
          missing = pass.failed;
          reason = notUpdated(pass, users.length).message;
        } else {
          if (found.final) return { state: 'not-applied', reason: found.reason, attempts: attempt };
          reason = found.reason;
        }
      } catch (err) {
        reason = err instanceof Error ? err.message : String(err);
      }
      if (superseded()) return { state: 'superseded', attempts: attempt };
      if (options.signal?.aborted || retryMs.length === 0) return { state: 'stopped', reason, attempts: attempt };
      const delayMs = retryMs[Math.min(attempt - 1, retryMs.length - 1)];
      options.onRetry?.({ attempt, reason, users: missing?.length, delayMs });
      await sleep(delayMs, options.signal);
      if (superseded()) return { state: 'superseded', attempts: attempt };
      if (options.signal?.aborted) return { state: 'stopped', reason, attempts: attempt };
    }
  }

  /**
   * Recomputes `userIds` batch by batch; a failed batch is remembered and the next one tried.
   * `stop` is asked between batches (a superseded catch-up gives up).
   */
  async #updateAll(target: UpdateTarget, model: TrainedModel, userIds: readonly string[], stop: () => boolean): Promise<UsersPass> {
    // A version just activated gets its fold-in workers started now, not on its first event.
    void this.#ranker.prepare(model);
    let written = 0;
    const failed: string[] = [];
    let error: unknown;
    for (let start = 0; start < userIds.length; start += REBUILD_BATCH) {
      if (stop()) return { written, failed: [...failed, ...userIds.slice(start)], error, stopped: true };
      const users = userIds.slice(start, start + REBUILD_BATCH);
      try {
        written += (await this.#updateBatch(target, model, new Map<string, undefined>(users.map((u) => [u, undefined])))).size;
      } catch (err) {
        error ??= err;
        failed.push(...users);
      }
    }
    return { written, failed, error, stopped: false };
  }

  /**
   * Folds in every user of `byUser` (with the events this process just logged for them, if any) and
   * writes their lists in one batch, holding each user's lock throughout. Returns the users written.
   */
  #updateBatch(target: UpdateTarget, model: TrainedModel, byUser: ReadonlyMap<string, readonly AppendResult[] | undefined>): Promise<Set<string>> {
    return this.#locks.run([...byUser.keys()], () => this.#updateUnlocked(target, model, byUser));
  }

  /**
   * Folds in and writes the lists of `byUser`'s users. Each list is written only if no newer one
   * can be in the store (putUserRecsIfCurrent: another instance logged an event for the user and
   * wrote its list meanwhile); a refused user is folded again from where its log moved on and
   * written, for up to WRITE_ROUNDS rounds. Returns the users whose lists are current: written, or
   * still refused after the last round (events keep being logged for them, and each of those
   * updates writes a list at least as new).
   */
  async #updateUnlocked(target: UpdateTarget, model: TrainedModel, byUser: ReadonlyMap<string, readonly AppendResult[] | undefined>): Promise<Set<string>> {
    const written = new Set<string>();
    let pending = byUser;
    for (let round = 1; ; round++) {
      const refused = await this.#updateRound(target, model, pending, written);
      if (refused.size === 0 || round === WRITE_ROUNDS) {
        for (const u of refused) written.add(u);
        return written;
      }
      pending = new Map([...refused].map((u) => [u, undefined]));
    }
  }

  /** One round of #updateUnlocked: adds the users written to `written`, returns those refused. */
  async #updateRound(target: UpdateTarget, model: TrainedModel, byUser: ReadonlyMap<string, readonly AppendResult[] | undefined>, written: Set<string>): Promise<ReadonlySet<string>> {
    const users = [...byUser.keys()];
    const folded = await mapInSlices(users, PLAN_SLICE, (u) => this.#fold(target, model, u, byUser.get(u)));
    const updates = await listsFor(model, topKOf(target), users.map((userId, j) => ({ userId, mine: folded[j].interactions, prev: folded[j].prev })), this.#ranker, target.popular);
    const lists: CursorList[] = [];
    const entries = new Map<string, FoldEntry>();
    for (let j = 0; j < users.length; j++) {
      const f = folded[j];
      const update = updates[j];
      // Remembered before the list is written: the interactions are what the log holds either way.
      const entry = this.#remember(users[j], target, model, f, update);
      if (!update) continue;
      if (update.unchanged && f.own && f.prev?.written) {
        // Only our events since the list we wrote, and they left it as it was: nothing to write.
        entry.written = true;
        written.add(users[j]);
        continue;
      }
      lists.push({ subjectId: users[j], ranked: update.ranked, cursor: f.cursor });
      entries.set(users[j], entry);
    }
    const refused = await this.#store.putUserRecsIfCurrent(target.version, lists);
    for (const [userId, entry] of entries) {
      if (refused.has(userId)) continue;
      entry.written = true;
      written.add(userId);
    }
    return refused;
  }

  /**
   * The user's interactions including everything logged so far and the cursor they reach, from the
   * remembered fold when possible; `own` says the events folded were exactly `appended`'s.
   */
  async #fold(target: UpdateTarget, model: TrainedModel, userId: string, appended: readonly AppendResult[] | undefined): Promise<Folded> {
    const itemIndex = (id: string) => target.itemIndex.get(id);
    const ratings = model.info.training.explicitFeedback;
    const prev = this.#cache.get(userId, target.version, model);
    const fresh = appended?.filter((r) => !r.duplicate) ?? [];
    if (!prev && fresh.length > 0 && follows(NO_EVENTS_CURSOR, fresh)) {
      // The user's first events are the ones just appended: the log holds nothing else to read.
      const cursor = fresh[fresh.length - 1].userCursor?.after ?? NO_EVENTS_CURSOR;
      return { interactions: userInteractions(trainingRow(model, userId), fresh.map((r) => r.event), itemIndex, this.#config, ratings), cursor, prev, own: false };
    }
    // Events read back from the log may include ones the model learned (learned-events.ts);
    // just-appended ones never do.
    const learned = learnedFilterOf(target.record.meta);
    if (!prev) {
      const page = await this.#store.userEventsAfter(userId);
      const events = unlearnedEvents(page.events, learned, this.#config, ratings);
      return { interactions: userInteractions(trainingRow(model, userId), events, itemIndex, this.#config, ratings), cursor: page.cursor, prev, own: false };
    }
    if (fresh.length > 0 && follows(prev.cursor, fresh)) {
      // Exactly our events were logged for this user since its last fold: no need to read them back.
      const cursor = fresh[fresh.length - 1].userCursor?.after ?? prev.cursor;
      return { interactions: foldEvents(prev.interactions, fresh.map((r) => r.event), itemIndex, this.#config, ratings), cursor, prev, own: true };
    }
    const page = await this.#store.userEventsAfter(userId, prev.cursor);
    const events = unlearnedEvents(page.events, learned, this.#config, ratings);
    return { interactions: foldEvents(prev.interactions, events, itemIndex, this.#config, ratings), cursor: page.cursor, prev, own: false };
  }

  #remember(userId: string, target: UpdateTarget, model: TrainedModel, f: { interactions: UserInteractions; cursor: string }, list: RankedList | undefined): FoldEntry {
    const entry: FoldEntry = { version: target.version, model, cursor: f.cursor, interactions: f.interactions, ...(list ? { list: { k: list.k, extended: list.extended, exhaustive: list.exhaustive } } : {}), written: false };
    this.#cache.set(userId, entry);
    return entry;
  }
}

/** The error for a pass that left users out. */
function notUpdated(pass: UsersPass, of: number): Error {
  const why = pass.error instanceof Error ? pass.error.message : pass.error === undefined ? 'stopped' : JSON.stringify(pass.error);
  return new Error(`${pass.failed.length} of ${of} users were not updated: ${why}`, pass.error === undefined ? undefined : { cause: pass.error });
}

/** Resolves after `ms`, or at once when `signal` aborts; the timer does not keep the process alive. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    timer.unref();
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** The list length of `target` (publish records it in the version's meta). */
function topKOf(target: UpdateTarget): number {
  return typeof target.record.meta.topK === 'number' ? target.record.meta.topK : DEFAULT_TOP_K;
}

/** The live-popularity add of each event (same index), all at one `now`. */
function countsOf(popularity: LivePopularity, events: readonly NewEvent[], config: EventConfig): (CounterAdd | undefined)[] {
  const now = popularity.now();
  return events.map((e) => popularity.counterAdd(e, config, now));
}

/** True when `fresh` (one user's new events, in order) directly follow `cursor` with nothing between. */
function follows(cursor: string, fresh: readonly AppendResult[]): boolean {
  let at = cursor;
  for (const r of fresh) {
    if (r.userCursor?.before !== at) return false;
    at = r.userCursor.after;
  }
  return true;
}

/** The user's training row, or null for a user the model was not trained on. */
function trainingRow(model: TrainedModel, userId: string): { items: Int32Array; values: Float32Array } | null {
  const u = model.users.indexOf(userId);
  if (!(u >= 0 && u < model.numUsers)) return null;
  const { indptr, indices, data } = model.seen;
  return { items: indices.subarray(indptr[u], indptr[u + 1]), values: data.subarray(indptr[u], indptr[u + 1]) };
}

