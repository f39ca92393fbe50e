/**
 * @module The per-user half of the online update: folding users in and writing their lists in a
 * served version. A user's interactions are rebuilt from the remembered fold (fold-cache.ts) plus
 * what was logged since, or from the training row and the user's whole log (user-interactions.ts);
 * the lists of a batch of users are ranked together (list-ranking.ts, fold-ranker.ts) and written
 * only if current (putUserRecsIfCurrent). A user the store refused (another instance logged an
 * event for the user and wrote a newer list meanwhile) is folded again from where its log moved on,
 * for up to WRITE_ROUNDS rounds. The caller (online-updater.ts) holds the users' locks.
 */
import { mapInSlices } from '../core/slices.js';
import type { TrainedModel } from '../models/trained-model.js';
import { NO_EVENTS_CURSOR, type AppendResult } from '../store/event-log.js';
import type { CursorList, OnlineStore } from '../store/online-store.js';
import type { EventConfig } from './event-config.js';
import type { FoldCache, FoldEntry } from './fold-cache.js';
import type { FoldRanker } from './fold-ranker.js';
import { learnedFilterOf, unlearnedEvents } from './learned-events.js';
import { listsFor, type RankedList } from './list-ranking.js';
import type { UpdateTarget } from './online-updater.js';
import { foldEvents, userInteractions, type UserInteractions } from './user-interactions.js';

/** List length when the version's meta does not say (publish records `topK`). */
const DEFAULT_TOP_K = 100;
/** Times a user's list is folded and written again when the store refused it as not current. */
const WRITE_ROUNDS = 3;
/**
 * Users whose folds are prepared per event-loop turn: reads are answered between slices instead of
 * waiting for a whole group (about 2 ms per slice on a 50k-item catalogue).
 */
export const PLAN_SLICE = 100;

/** What folding and writing work with: the OnlineUpdater's store, event config, fold cache and ranker. */
export interface ListWriterContext {
  readonly store: Pick<OnlineStore, 'userEventsAfter' | 'putUserRecsIfCurrent'>;
  readonly config: EventConfig;
  readonly cache: FoldCache;
  readonly ranker: FoldRanker;
}

/** A user folded up to `cursor`; `prev` is the remembered entry it started from. */
export interface Folded {
  readonly interactions: UserInteractions;
  readonly cursor: string;
  readonly prev: FoldEntry | undefined;
  /** The events folded since `prev` were exactly the ones this process just appended. */
  readonly own: boolean;
}

/**
 * Folds in and writes the lists of `byUser`'s users (with the events this process just logged for
 * them, if any). Each list is written only if no newer one can be in the store
 * (putUserRecsIfCurrent: another instance logged an event for the user and wrote its list
 * meanwhile); a refused user is folded again from where its log moved on and written, for up to
 * WRITE_ROUNDS rounds. Run holding the users' locks.
 * @returns the users whose lists are current: written, or still refused after the last round
 * (events keep being logged for them, and each of those updates writes a list at least as new)
 */
export async function writeLists(ctx: ListWriterContext, target: UpdateTarget, model: TrainedModel, byUser: ReadonlyMap<string, readonly AppendResult[] | undefined>): Promise<Set<string>> {
  const written = new Set<string>();
  let pending = byUser;
  for (let round = 1; ; round++) {
    const refused = await writeRound(ctx, target, model, pending, written);
    if (refused.size === 0 || round === WRITE_ROUNDS) {
      for (const u of refused) written.add(u);
      return written;
    }
    pending = new Map([...refused].map((u) => [u, undefined]));
  }
}

/** One round of writeLists: adds the users written to `written`, returns those refused. */
async function writeRound(ctx: ListWriterContext, target: UpdateTarget, model: TrainedModel, byUser: ReadonlyMap<string, readonly AppendResult[] | undefined>, written: Set<string>): Promise<ReadonlySet<string>> {
  const users = [...byUser.keys()];
  const folded = await mapInSlices(users, PLAN_SLICE, (u) => foldUser(ctx, target, model, u, byUser.get(u)));
  const updates = await listsFor(model, topKOf(target), users.map((userId, j) => ({ userId, mine: folded[j].interactions, prev: folded[j].prev })), ctx.ranker, target.popular);
  const lists: CursorList[] = [];
  const entries = new Map<string, FoldEntry>();
  for (let j = 0; j < users.length; j++) {
    const f = folded[j];
    const update = updates[j];
    // Remembered before the list is written: the interactions are what the log holds either way.
    const entry = rememberFold(ctx.cache, users[j], target, model, f, update);
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
  const refused = await ctx.store.putUserRecsIfCurrent(target.version, lists);
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
export async function foldUser(ctx: ListWriterContext, target: UpdateTarget, model: TrainedModel, userId: string, appended: readonly AppendResult[] | undefined): Promise<Folded> {
  const itemIndex = (id: string) => target.itemIndex.get(id);
  const ratings = model.info.training.explicitFeedback;
  const prev = ctx.cache.get(userId, target.version, model);
  const fresh = appended?.filter((r) => !r.duplicate) ?? [];
  if (!prev && fresh.length > 0 && follows(NO_EVENTS_CURSOR, fresh)) {
    // The user's first events are the ones just appended: the log holds nothing else to read.
    const cursor = fresh[fresh.length - 1].userCursor?.after ?? NO_EVENTS_CURSOR;
    return { interactions: userInteractions(trainingRow(model, userId), fresh.map((r) => r.event), itemIndex, ctx.config, ratings), cursor, prev, own: false };
  }
  // Events read back from the log may include ones the model learned (learned-events.ts);
  // just-appended ones never do.
  const learned = learnedFilterOf(target.record.meta);
  if (!prev) {
    const page = await ctx.store.userEventsAfter(userId);
    const events = unlearnedEvents(page.events, learned, ctx.config, ratings);
    return { interactions: userInteractions(trainingRow(model, userId), events, itemIndex, ctx.config, ratings), cursor: page.cursor, prev, own: false };
  }
  if (fresh.length > 0 && follows(prev.cursor, fresh)) {
    // Exactly our events were logged for this user since its last fold: no need to read them back.
    const cursor = fresh[fresh.length - 1].userCursor?.after ?? prev.cursor;
    return { interactions: foldEvents(prev.interactions, fresh.map((r) => r.event), itemIndex, ctx.config, ratings), cursor, prev, own: true };
  }
  const page = await ctx.store.userEventsAfter(userId, prev.cursor);
  const events = unlearnedEvents(page.events, learned, ctx.config, ratings);
  return { interactions: foldEvents(prev.interactions, events, itemIndex, ctx.config, ratings), cursor: page.cursor, prev, own: false };
}

/**
 * Remembers the user's fold `f` (and `list`, the list computed from it, if any) in `cache`, not yet
 * marked written.
 * @returns the entry remembered, for the caller to mark written once the list is in the store
 */
export function rememberFold(cache: FoldCache, userId: string, target: UpdateTarget, model: TrainedModel, f: { interactions: UserInteractions; cursor: string }, list: RankedList | undefined): FoldEntry {
  const entry: FoldEntry = { version: target.version, model, cursor: f.cursor, interactions: f.interactions, ...(list ? { list: { k: list.k, extended: list.extended, exhaustive: list.exhaustive } } : {}), written: false };
  cache.set(userId, entry);
  return entry;
}

/** The list length of `target` (publish records it in the version's meta). */
export function topKOf(target: UpdateTarget): number {
  return typeof target.record.meta.topK === 'number' ? target.record.meta.topK : DEFAULT_TOP_K;
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
