import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRng } from '../core/rng.js';
import { generateSynthetic } from '../data/synthetic.js';
import { trainModel } from '../jobs/train.js';
import { resolveWorkerEntry } from '../math/worker-pool.js';
import type { Ranked } from '../models/recommender.js';
import { TrainedModel } from '../models/trained-model.js';
import { INLINE_BELOW_SCORES, inlineFoldRanker, threadedFoldRanker, type FoldRequest } from './fold-ranker.js';

// `npm test` builds first; the worker runs the compiled entry.
const entry = resolveWorkerEntry('./fold-ranker-worker.js', import.meta.url);

const models: Partial<Record<'als' | 'ials' | 'ease', TrainedModel>> = {};
let tmp: string;

beforeAll(async () => {
  for (const type of ['als', 'ials', 'ease'] as const) {
    const data = generateSynthetic({ numUsers: 200, numItems: 1_500, numInteractions: 8_000, rank: 8, explicit: type === 'als', seed: 11 });
    models[type] = await trainModel(data, { type, hyperParameters: type === 'ease' ? {} : { rank: 16, iterations: 4 } });
  }
  tmp = await mkdtemp(path.join(os.tmpdir(), 'rtrec-fold-ranker-'));
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Random users: some items with values, sometimes extra exclusions, one without any. */
function requestsFor(model: TrainedModel, n: number, seed: number): FoldRequest[] {
  const rng = createRng(seed);
  const requests: FoldRequest[] = [];
  for (let r = 0; r < n; r++) {
    const count = r === 0 ? 1 : 1 + rng.int(60);
    const items = Int32Array.from({ length: count }, () => rng.int(model.numItems));
    const values = Float32Array.from(items, () => 1 + rng.int(5));
    const exclude = r % 3 === 0 ? Int32Array.from(new Set(Array.from({ length: 1 + rng.int(8) }, () => rng.int(model.numItems)))).sort() : new Int32Array(0);
    requests.push({ items, values, exclude });
  }
  return requests;
}

/** What the online update computed before fold-in could leave the event loop. */
function expected(model: TrainedModel, requests: readonly FoldRequest[], k: number): Ranked[] {
  return requests.map((r) => model.recommendFromInteractions(r.items, r.values, { k, excludeSeen: true, ...(r.exclude.length > 0 ? { filter: { exclude: r.exclude } } : {}) }));
}

function plain(lists: readonly Ranked[]): { items: number[]; scores: number[] }[] {
  return lists.map((l) => ({ items: Array.from(l.items), scores: Array.from(l.scores) }));
}

describe('threadedFoldRanker', () => {
  it('has its compiled worker entry (npm test builds first)', () => {
    expect(entry).not.toBeNull();
  });

  for (const type of ['als', 'ials'] as const) {
    for (const threads of [1, 2]) {
      it(`${type}, ${threads} thread(s): lists equal the model's own fold-in, scores bit for bit`, async () => {
        const model = models[type]!;
        const fallbacks: string[] = [];
        const ranker = threadedFoldRanker({ threads, inlineBelow: 0, onFallback: (why) => fallbacks.push(why) });
        try {
          expect(await ranker.prepare(model)).toBe(true);
          for (const k of [10, 125]) {
            const requests = requestsFor(model, 37, k);
            expect(plain(await ranker.rank(model, requests, k))).toEqual(plain(expected(model, requests, k)));
          }
          // Groups of events are ranked concurrently (two in flight in the online updater).
          const groups = [requestsFor(model, 15, 1), requestsFor(model, 4, 2), requestsFor(model, 30, 3)];
          const lists = await Promise.all(groups.map((g) => ranker.rank(model, g, 20)));
          expect(lists.map(plain)).toEqual(groups.map((g) => plain(expected(model, g, 20))));
          expect(await ranker.rank(model, [], 10)).toEqual([]);
          expect(fallbacks).toEqual([]);
        } finally {
          await ranker.close();
        }
      });
    }
  }

  it('ranks small calls inline: a worker that would fail is never asked', async () => {
    const ials = models.ials!;
    const reasons: string[] = [];
    const broken = threadedFoldRanker({ threads: 1, entry: pathToFileURL(path.join(tmp, 'missing-worker.mjs')), onFallback: (why) => reasons.push(why) });
    try {
      const small = requestsFor(ials, Math.floor(INLINE_BELOW_SCORES / ials.numItems), 8);
      expect(small.length * ials.numItems).toBeLessThan(INLINE_BELOW_SCORES);
      expect(plain(await broken.rank(ials, small, 10))).toEqual(plain(expected(ials, small, 10)));
      expect(reasons).toEqual([]);
      const large = requestsFor(ials, small.length + 1, 9);
      expect(plain(await broken.rank(ials, large, 10))).toEqual(plain(expected(ials, large, 10)));
      await broken.prepare(ials);
      expect(reasons.join('\n')).toMatch(/did not start/);
    } finally {
      await broken.close();
    }
  });

  it('ranks inline, with the same lists, for a model without foldInState, with 0 threads, without a worker entry and after close', async () => {
    const ials = models.ials!;
    const ease = models.ease!;
    expect(ease.recommender.foldInState).toBeUndefined();
    const cases = [
      { ranker: threadedFoldRanker({ threads: 1 }), model: ease },
      { ranker: threadedFoldRanker({ threads: 0 }), model: ials },
      { ranker: threadedFoldRanker({ threads: 1, entry: null }), model: ials },
      { ranker: inlineFoldRanker(), model: ials },
    ];
    for (const { ranker, model } of cases) {
      expect(await ranker.prepare(model)).toBe(false);
      const requests = requestsFor(model, 9, 3);
      expect(plain(await ranker.rank(model, requests, 20))).toEqual(plain(expected(model, requests, 20)));
      await ranker.close();
    }
    const closed = threadedFoldRanker({ threads: 1 });
    await closed.close();
    expect(await closed.prepare(ials)).toBe(false);
    const requests = requestsFor(ials, 5, 4);
    expect(plain(await closed.rank(ials, requests, 10))).toEqual(plain(expected(ials, requests, 10)));
  });

  it('keeps the workers of the last two models, and answers calls in flight when older ones are retired', async () => {
    const [als, ials] = [models.als!, models.ials!];
    // A third model: the same factors under another TrainedModel (as a reloaded model folder would be).
    const reloaded = new TrainedModel({ info: ials.info, recommender: ials.recommender, users: ials.users, items: ials.items, seen: ials.seen, itemMetadata: ials.itemMetadata });
    const ranker = threadedFoldRanker({ threads: 1, inlineBelow: 0 });
    try {
      expect(await ranker.prepare(als)).toBe(true);
      expect(await ranker.prepare(ials)).toBe(true);
      const alsRequests = requestsFor(als, 200, 5);
      // Running on the als workers when a third model retires them: finished inline instead.
      const inFlight = ranker.rank(als, alsRequests, 50);
      const ialsRequests = requestsFor(ials, 20, 6);
      const reloadedLists = ranker.rank(reloaded, ialsRequests, 50);
      expect(plain(await inFlight)).toEqual(plain(expected(als, alsRequests, 50)));
      expect(plain(await reloadedLists)).toEqual(plain(expected(ials, ialsRequests, 50)));
      expect(await ranker.prepare(reloaded)).toBe(true);
      // ials was used more recently than als: still running, no restart needed.
      expect(plain(await ranker.rank(ials, ialsRequests, 50))).toEqual(plain(expected(ials, ialsRequests, 50)));
      expect(await ranker.prepare(als)).toBe(true);
      expect(plain(await ranker.rank(als, alsRequests, 50))).toEqual(plain(expected(als, alsRequests, 50)));
    } finally {
      await ranker.close();
    }
  });

  it('falls back to the event loop, and says why, when its workers cannot start or die', async () => {
    const ials = models.ials!;
    const broken = path.join(tmp, 'broken-worker.mjs');
    await writeFile(broken, "throw new Error('no fold-in here');\n");
    const reasons: string[] = [];
    const ranker = threadedFoldRanker({ threads: 1, entry: pathToFileURL(broken), onFallback: (why) => reasons.push(why) });
    expect(await ranker.prepare(ials)).toBe(false);
    expect(reasons.join('\n')).toMatch(/did not start.*no fold-in here/);
    const requests = requestsFor(ials, 12, 7);
    expect(plain(await ranker.rank(ials, requests, 30))).toEqual(plain(expected(ials, requests, 30)));
    await ranker.close();

    // A worker that starts, then exits on its first task.
    const dying = path.join(tmp, 'dying-worker.mjs');
    const pool = pathToFileURL(path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../dist/math/worker-pool.js')).href;
    await writeFile(dying, `import { serveWorkerTasks } from ${JSON.stringify(pool)};\nserveWorkerTasks(() => () => process.exit(3));\n`);
    const died: string[] = [];
    const second = threadedFoldRanker({ threads: 1, inlineBelow: 0, entry: pathToFileURL(dying), onFallback: (why) => died.push(why) });
    try {
      expect(await second.prepare(ials)).toBe(true);
      expect(plain(await second.rank(ials, requests, 30))).toEqual(plain(expected(ials, requests, 30)));
      expect(died.join('\n')).toMatch(/worker failed.*exited with code 3/);
      expect(await second.prepare(ials)).toBe(false);
    } finally {
      await second.close();
    }
  });
});
