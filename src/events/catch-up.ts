/**
 * @module Catching a served version up with the event log: recomputing the lists of many users
 * (every user with events, when a version is activated) batch by batch, and retrying with backoff
 * until every user is written, a newer version takes over, the server closes, or waiting cannot
 * help (the model source says so, or the store says the version was deleted). OnlineUpdater.catchUp,
 * rebuild and updateUsers (online-updater.ts) run on this; the per-batch fold and write is theirs
 * (list-writer.ts, under the users' locks).
 */
import { isRecError } from '../core/errors.js';
import type { TrainedModel } from '../models/trained-model.js';
import type { OnlineStore } from '../store/online-store.js';
import type { FoldRanker } from './fold-ranker.js';
import type { ModelSource } from './model-source.js';
import type { UpdateTarget } from './online-updater.js';

/** Users recomputed per batch during a rebuild. */
const REBUILD_BATCH = 256;

/** Waits before each retry of a catch-up (see runCatchUp): the last delay repeats. */
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
  /** Lists are not updated for this version and waiting cannot change that (ModelLookup.final, or the version was deleted). */
  | { readonly state: 'not-applied'; readonly reason: string; readonly attempts: number }
  /** Stopped by the signal (or no retry asked for) after failing for `reason`. */
  | { readonly state: 'stopped'; readonly reason: string; readonly attempts: number };

/** One pass over users: lists written, users not updated (a batch failed, or the pass stopped) and the first failure. */
export interface UsersPass {
  readonly written: number;
  readonly failed: readonly string[];
  readonly error: unknown;
  readonly stopped: boolean;
}

/** What a catch-up works with: the OnlineUpdater's store, models and ranker, and its locked batch update. */
export interface CatchUpContext {
  readonly store: Pick<OnlineStore, 'eventUsers'>;
  readonly models: ModelSource;
  readonly ranker: Pick<FoldRanker, 'prepare'>;
  /** Folds in and writes the lists of `byUser`'s users holding their locks; resolves to the users written. */
  readonly updateBatch: (target: UpdateTarget, model: TrainedModel, byUser: ReadonlyMap<string, undefined>) => Promise<ReadonlySet<string>>;
}

/**
 * Recomputes every user with events in `target` (a version just activated), trying again until
 * all are written: after a failed attempt (the store failed, or no model for the version yet, e.g.
 * its model folder not deployed) it waits `retryMs[attempt - 1]` (the last delay repeats) and
 * retries the users still missing (all of them when the users or the model could not be read).
 * Stops early when `superseded` says a later catchUp or rebuild took over, when `signal` aborts, or
 * when waiting cannot help: the model source says so (ModelLookup.final: e.g. no model folder
 * configured), or the store refused a write because the version was deleted (see versionGone).
 */
export async function runCatchUp(ctx: CatchUpContext, target: UpdateTarget, options: CatchUpOptions, superseded: () => boolean): Promise<CatchUpOutcome> {
  const retryMs = options.retryMs ?? CATCH_UP_RETRY_MS;
  let missing: readonly string[] | undefined;
  let written = 0;
  for (let attempt = 1; ; attempt++) {
    let reason: string;
    try {
      const users = missing ?? (await ctx.store.eventUsers());
      const found = await ctx.models.modelFor(target);
      if (found.model) {
        const pass = await updateAll(ctx, target, found.model, users, superseded);
        written += pass.written;
        if (pass.failed.length === 0 && !pass.stopped) return { state: 'done', users: written, attempts: attempt };
        missing = pass.failed;
        reason = notUpdated(pass, users.length).message;
        if (versionGone(pass.error)) return { state: 'not-applied', reason, attempts: attempt };
      } else {
        // Only logged (app.ts): the detail, which names the model folder, is the useful text.
        reason = found.detail ?? found.reason;
        if (found.final) return { state: 'not-applied', reason, attempts: attempt };
      }
    } catch (err) {
      reason = err instanceof Error ? err.message : String(err);
      if (versionGone(err)) return { state: 'not-applied', reason, attempts: attempt };
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
 * Recomputes `userIds` batch by batch; a failed batch is remembered and the next one tried, unless
 * it failed because the version was deleted (versionGone): then the rest fail with it, untried, and
 * that error is the pass's. `stop` is asked between batches (a superseded catch-up gives up).
 */
export async function updateAll(ctx: CatchUpContext, target: UpdateTarget, model: TrainedModel, userIds: readonly string[], stop: () => boolean): Promise<UsersPass> {
  // A version just activated gets its fold-in workers started now, not on its first event.
  void ctx.ranker.prepare(model);
  let written = 0;
  const failed: string[] = [];
  let error: unknown;
  for (let start = 0; start < userIds.length; start += REBUILD_BATCH) {
    if (stop()) return { written, failed: [...failed, ...userIds.slice(start)], error, stopped: true };
    const users = userIds.slice(start, start + REBUILD_BATCH);
    try {
      written += (await ctx.updateBatch(target, model, new Map<string, undefined>(users.map((u) => [u, undefined])))).size;
    } catch (err) {
      if (versionGone(err)) return { written, failed: [...failed, ...userIds.slice(start)], error: err, stopped: false };
      error ??= err;
      failed.push(...users);
    }
  }
  return { written, failed, error, stopped: false };
}

/**
 * True when `err` says the version no longer exists (LMDB refuses writes into a version deleted
 * under a server still serving it): numbers are never reused, so no retry can write its lists.
 */
function versionGone(err: unknown): boolean {
  return isRecError(err) && err.code === 'RTREC_ERR_STORE_VERSION_NOT_FOUND';
}

/** The error for a pass that left users out. */
export function notUpdated(pass: UsersPass, of: number): Error {
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
