import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRng } from '../core/rng.js';
import { splitCsvLine } from '../data/csv.js';
import { InteractionsBuilder, type Dataset } from '../data/interactions.js';
import { DEFAULT_SPARK_VENV, SPARK_UNAVAILABLE } from './spark-submit.js';
import { trainWithSpark } from './spark-train.js';
import type { TrainedModel } from '../models/trained-model.js';
import { trainModel } from './train.js';
import { rejection } from '../../test/support/rejection.js';

const SPARK_READY = existsSync(join(DEFAULT_SPARK_VENV, 'bin', 'spark-submit'));
const RUN_SPARK = SPARK_READY || Boolean(process.env.CI);
if (!RUN_SPARK) {
  console.warn('\n*** SKIPPING the Spark engine tests: jobs/spark/.venv is missing. Run scripts/setup-spark.sh to enable them (CI always runs them). ***\n');
}

// Spark local mode sized for a 2-core machine: two threads, two shuffle partitions, two ALS blocks.
const SPARK = { master: 'local[2]', conf: ['spark.sql.shuffle.partitions=2', 'spark.driver.memory=512m'], blocks: 2, liveProgress: false } as const;

/**
 * Made-up explicit ratings: 30 users × 20 items from two taste groups (users prefer items of their
 * own group), 8 ratings per user, ratings 1..5, unix timestamps; one user id holds a comma, and one
 * pair is re-rated later (the later rating counts).
 */
function madeUpDataset(): { dataset: Dataset; pairs: number } {
  const rng = createRng(11);
  const b = new InteractionsBuilder({ hasRating: true, hasTimestamp: true });
  const seen = new Set<string>();
  let t = 1_700_000_000;
  for (let u = 0; u < 30; u++) {
    const user = u === 7 ? 'user,7' : `user${u}`;
    const chosen = new Set<number>();
    while (chosen.size < 8) chosen.add(rng.int(20));
    for (const i of chosen) {
      const sameGroup = u % 2 === i % 2;
      const rating = Math.min(5, Math.max(1, Math.round((sameGroup ? 4.2 : 1.8) + (rng.next() - 0.5) * 1.5)));
      b.add(user, `item${i}`, rating, t++);
      seen.add(`${user}\u0000item${i}`);
    }
  }
  // user3 re-rates the item of their first row (row 24: rows 8u..8u+7 belong to user u).
  const first = b.build();
  b.add('user3', first.items.idOf(first.item[24]), 1, t);
  return { dataset: { interactions: b.build(), itemMetadata: null, source: 'made-up' }, pairs: seen.size };
}

async function readFactorCsv(path: string): Promise<Map<string, number[]>> {
  const lines = (await readFile(path, 'utf8')).trim().split('\n');
  const out = new Map<string, number[]>();
  for (const line of lines.slice(1)) {
    const [id, ...values] = splitCsvLine(line);
    out.set(id, values.map(Number));
  }
  return out;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rtrec-spark-train-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('trainWithSpark checks before starting Spark', () => {
  it('refuses model types Spark does not train', async () => {
    const err = await rejection(trainWithSpark({ type: 'ease', dataset: madeUpDataset().dataset, log: () => undefined }));
    expect(err.code).toBe('RTREC_ERR_CONFIG_INVALID');
    expect(err.message).toContain('--engine embedded');
  });

  it('rejects an unknown hyper-parameter', async () => {
    const err = await rejection(trainWithSpark({ type: 'als', hyperParameters: { rnak: 3 }, dataset: madeUpDataset().dataset, log: () => undefined }));
    expect(err.code).toBe('RTREC_ERR_CONFIG_INVALID');
  });

  it('refuses an id with a line break, naming it and its row, before looking for Spark', async () => {
    for (const [user, item, what] of [['user\n2', 'item2', 'user'], ['user2', 'item\r2', 'item']] as const) {
      const b = new InteractionsBuilder({ hasRating: true, hasTimestamp: false });
      b.add('user1', 'item1', 4, 0);
      b.add(user, item, 3, 0);
      const dataset: Dataset = { interactions: b.build(), itemMetadata: null, source: 'ratings.csv' };
      // No venv either: the id is what must be reported, before anything about Spark.
      const err = await rejection(trainWithSpark({ type: 'als', dataset, venvDir: join(dir, 'no-venv'), env: { PATH: process.env.PATH }, log: () => undefined }));
      expect(err.code).toBe('RTREC_ERR_DATA_BAD_ROW');
      expect(err.message).toContain(`ratings.csv: row 2: ${what} id ${JSON.stringify(what === 'user' ? user : item)} holds a line break`);
    }
  });

  it('without the venv tells the user to run scripts/setup-spark.sh', async () => {
    const err = await rejection(
      trainWithSpark({ type: 'als', dataset: madeUpDataset().dataset, venvDir: join(dir, 'no-venv'), env: { PATH: process.env.PATH }, log: () => undefined }),
    );
    expect(err.code).toBe(SPARK_UNAVAILABLE);
    expect(err.message).toContain('scripts/setup-spark.sh');
  });
});

describe('cancelling trainWithSpark', () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('stops spark-submit with SIGTERM and sends no SIGKILL after it has exited', async () => {
    // A spark-submit that waits until it is terminated.
    const venv = join(dir, 'venv-waits');
    await mkdir(join(venv, 'bin'), { recursive: true });
    await writeFile(join(venv, 'bin', 'spark-submit'), "#!/bin/sh\ntrap 'exit 143' TERM\nsleep 60 &\nwait\n");
    await chmod(join(venv, 'bin', 'spark-submit'), 0o755);
    const kill = vi.spyOn(process, 'kill');
    const controller = new AbortController();
    let pid = 0;
    const run = trainWithSpark({
      type: 'als',
      dataset: madeUpDataset().dataset,
      venvDir: venv,
      log: () => undefined,
      liveProgress: false,
      signal: controller.signal,
      onSpawn: (spawned) => {
        pid = spawned;
        // From here on the SIGKILL fallback can be fast-forwarded; other timers still run in real time.
        vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'], shouldAdvanceTime: true });
        setImmediate(() => controller.abort());
      },
    });
    const err = await rejection(run);
    expect(err.code).toBe('RTREC_ERR_MODEL_FIT_ABORTED');
    expect(kill).toHaveBeenCalledWith(-pid, 'SIGTERM');
    vi.advanceTimersByTime(60_000);
    expect(kill).not.toHaveBeenCalledWith(-pid, 'SIGKILL');
  });
});

describe.skipIf(!RUN_SPARK)('trainWithSpark on Spark local[2]', () => {
  it('trains, imports, and matches the exported factors and Spark\'s own top-10 minus seen items', async () => {
    const { dataset, pairs } = madeUpDataset();
    const exportDir = join(dir, 'export');
    const lines: string[] = [];
    const result = await trainWithSpark({
      type: 'als',
      hyperParameters: { rank: 4, iterations: 5, reg: 0.1, seed: 5 },
      dataset,
      ...SPARK,
      exportDir,
      recommend: { k: 10, excludeSeen: true },
      log: (line) => lines.push(line),
    });
    const { model, sparkExport } = result;
    expect(lines.some((l) => l.startsWith('spark: training als'))).toBe(true);
    expect(model.info.training.engine).toBe('spark');
    expect(model.info.type).toBe('als');
    expect(model.info.hyperParameters).toMatchObject({ rank: 4, iterations: 5, reg: 0.1, seed: 5 });
    expect(sparkExport.counts).toEqual({ rows: dataset.interactions.length, interactions: pairs, users: 30, items: dataset.interactions.items.size });
    expect(model.info.numInteractions).toBe(pairs);
    expect(result.warnings).toEqual([]);

    // predict = dot product of the factors Spark exported, for every pair.
    const users = await readFactorCsv(join(exportDir, 'user_factors.csv'));
    const items = await readFactorCsv(join(exportDir, 'item_factors.csv'));
    expect(users.size).toBe(30);
    expect(users.has('user,7')).toBe(true);
    for (const [userId, x] of users) {
      for (const [itemId, y] of items) {
        const dot = x.reduce((s, v, a) => s + v * y[a], 0);
        expect(model.predict(model.users.indexOf(userId), model.items.indexOf(itemId))).toBeCloseTo(dot, 4);
      }
    }

    // Top-10 equals Spark's recommendForAllUsers minus seen items, ties aside: the scores agree
    // position by position, and the items agree wherever a score is not tied with a neighbour's.
    const recs = (await readFile(join(exportDir, 'recommendations.jsonl'), 'utf8')).trim().split('\n');
    expect(recs).toHaveLength(30);
    for (const line of recs) {
      const spark = JSON.parse(line) as { userId: string; items: string[]; scores: number[] };
      const ours = model.recommend(model.users.indexOf(spark.userId), { k: 10 });
      expect(ours.items.length).toBe(spark.items.length);
      for (let j = 0; j < spark.items.length; j++) {
        expect(ours.scores[j]).toBeCloseTo(spark.scores[j], 4);
        const tied = [j - 1, j + 1].some((n) => n >= 0 && n < spark.scores.length && Math.abs(spark.scores[n] - spark.scores[j]) < 1e-4);
        if (!tied) expect(model.items.idOf(ours.items[j])).toBe(spark.items[j]);
      }
    }
  }, 240_000);

  it("ials reg means rtrec's λ: on data with equal counts Spark's model matches the embedded one", async () => {
    // 40 users in two groups, each with 6 of their group's 10 items; every item has 12 users. With
    // counts this even, Spark's objective with regParam λ / √(6 × 12) is rtrec's up to a rescaling of
    // the factors that changes no score (jobs/spark/README.md), so both trainers reach the same scores. λ passed as regParam itself penalised rows √72 times harder
    // and flattened every score to 0.
    const b = new InteractionsBuilder({ hasRating: false, hasTimestamp: false });
    for (let u = 0; u < 40; u++) for (let k = 0; k < 6; k++) b.add(`user${u}`, `item${(u % 2) * 10 + ((u + k) % 10)}`, 1, 0);
    const dataset: Dataset = { interactions: b.build(), itemMetadata: null, source: 'even counts' };
    const hyperParameters = { rank: 4, iterations: 10, seed: 5, reg: 5 };
    const spark = await trainWithSpark({ type: 'ials', hyperParameters, dataset, ...SPARK, log: () => undefined });
    const embedded = await trainModel(dataset, { type: 'ials', hyperParameters, threads: 1 });

    const x = dataset.interactions;
    const seen = new Set(Array.from({ length: x.length }, (_, j) => x.user[j] * x.items.size + x.item[j]));
    const meanScores = (model: TrainedModel, trained: boolean) => {
      let sum = 0, n = 0;
      for (let u = 0; u < x.users.size; u++) {
        for (let i = 0; i < x.items.size; i++) {
          if (seen.has(u * x.items.size + i) !== trained) continue;
          sum += model.predict(u, i);
          n++;
        }
      }
      return sum / n;
    };
    expect(meanScores(embedded, true)).toBeGreaterThan(0.5);
    expect(meanScores(spark.model, true)).toBeCloseTo(meanScores(embedded, true), 2);
    expect(meanScores(spark.model, false)).toBeCloseTo(meanScores(embedded, false), 2);
    expect(spark.model.info.hyperParameters.reg).toBe(5);
    expect(spark.sparkExport.regScale?.factor).toBeCloseTo(Math.sqrt(6 * 12), 9);
  }, 240_000);

  it('a missing input path is DATA_NOT_FOUND naming the path', async () => {
    const missing = join(dir, 'absent', 'ratings.parquet');
    const err = await rejection(trainWithSpark({ type: 'als', dataset: madeUpDataset().dataset, sparkInput: missing, ...SPARK, log: () => undefined }));
    expect(err.code).toBe('RTREC_ERR_DATA_NOT_FOUND');
    expect(err.message).toContain(missing);
  }, 120_000);
});
