/**
 * @module Unit tests of the catch-up loop with a fake context (no store, no model): batching, retrying
 * the users still missing, and how a catch-up ends. online-updater-catch-up.test.ts covers it end to
 * end through OnlineUpdater on real stores.
 */
import { describe, expect, it } from 'vitest';
import { RecError } from '../core/errors.js';
import type { TrainedModel } from '../models/trained-model.js';
import { notUpdated, runCatchUp, updateAll, type CatchUpContext } from './catch-up.js';
import type { ModelLookup } from './model-source.js';
import type { UpdateTarget } from './online-updater.js';

const model = {} as TrainedModel;
const target = { version: 1 } as UpdateTarget;
const users = (n: number) => Array.from({ length: n }, (_, i) => `u${i}`);

/**
 * A context whose batch update fails for the batch numbers (from 1) in `failing` (with `failWith`'s
 * error, if given); records each batch's users.
 */
function fakeContext(opts: { eventUsers?: string[]; lookups?: ModelLookup[]; failing?: number[]; failWith?: () => Error } = {}): CatchUpContext & { batches: string[][] } {
  const batches: string[][] = [];
  const lookups = [...(opts.lookups ?? [])];
  return {
    batches,
    store: { eventUsers: () => Promise.resolve(opts.eventUsers ?? []) },
    models: { modelFor: () => Promise.resolve(lookups.shift() ?? { model }) },
    ranker: { prepare: () => Promise.resolve(false) },
    updateBatch: (_target, _model, byUser) => {
      batches.push([...byUser.keys()]);
      if (opts.failing?.includes(batches.length)) return Promise.reject(opts.failWith?.() ?? new Error(`batch ${batches.length} failed`));
      return Promise.resolve(new Set(byUser.keys()));
    },
  };
}

describe('updateAll', () => {
  it('goes on after a failed batch and reports its users and the first error', async () => {
    const ctx = fakeContext({ failing: [2, 3] });
    const pass = await updateAll(ctx, target, model, users(600), () => false);
    expect(ctx.batches.map((b) => b.length)).toEqual([256, 256, 88]);
    expect(pass.written).toBe(256);
    expect(pass.failed).toEqual(users(600).slice(256));
    expect((pass.error as Error).message).toBe('batch 2 failed');
    expect(pass.stopped).toBe(false);
  });

  it('gives up between batches when told to stop, counting the rest as failed', async () => {
    const ctx = fakeContext();
    const pass = await updateAll(ctx, target, model, users(300), () => ctx.batches.length === 1);
    expect(pass).toMatchObject({ written: 256, stopped: true, failed: users(300).slice(256) });
    expect(notUpdated(pass, 300).message).toBe('44 of 300 users were not updated: stopped');
  });
});

describe('runCatchUp', () => {
  it('retries only the users still missing, telling onRetry before each wait', async () => {
    const ctx = fakeContext({ eventUsers: users(300), failing: [2] });
    const retries: unknown[] = [];
    const outcome = await runCatchUp(ctx, target, { retryMs: [0], onRetry: (r) => retries.push(r) }, () => false);
    expect(outcome).toEqual({ state: 'done', users: 300, attempts: 2 });
    expect(ctx.batches.at(-1)).toEqual(users(300).slice(256));
    expect(retries).toEqual([{ attempt: 1, reason: '44 of 300 users were not updated: batch 2 failed', users: 44, delayMs: 0 }]);
  });

  it('ends as not-applied when waiting cannot help, and stopped without retries', async () => {
    const final = fakeContext({ lookups: [{ reason: 'no folder', final: true }] });
    expect(await runCatchUp(final, target, {}, () => false)).toEqual({ state: 'not-applied', reason: 'no folder', attempts: 1 });
    const late = fakeContext({ lookups: [{ reason: 'not yet' }] });
    expect(await runCatchUp(late, target, { retryMs: [] }, () => false)).toEqual({ state: 'stopped', reason: 'not yet', attempts: 1 });
  });

  it('ends as not-applied, without retrying or trying the later batches, when the version was deleted', async () => {
    const gone = () => new RecError('RTREC_ERR_STORE_VERSION_NOT_FOUND', 'version 1 was deleted: nothing was written into it');
    const ctx = fakeContext({ eventUsers: users(600), failing: [2], failWith: gone });
    const retries: unknown[] = [];
    const outcome = await runCatchUp(ctx, target, { retryMs: [0], onRetry: (r) => retries.push(r) }, () => false);
    expect(outcome).toEqual({ state: 'not-applied', reason: '344 of 600 users were not updated: version 1 was deleted: nothing was written into it', attempts: 1 });
    expect(ctx.batches.map((b) => b.length)).toEqual([256, 256]);
    expect(retries).toEqual([]);
  });

  it('ends as superseded once a later catch-up took over', async () => {
    const ctx = fakeContext({ lookups: [{ reason: 'not yet' }] });
    expect(await runCatchUp(ctx, target, { retryMs: [0] }, () => true)).toEqual({ state: 'superseded', attempts: 1 });
  });
});
