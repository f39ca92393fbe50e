/**
 * @module `npm run bench:publish`: time to publish (precompute top-100 per user excluding seen items,
 * 20 similar items per item, popularity list, catalogue; write; verify; flip) to LMDB and to Redis:
 * - MovieLens 100K with the quickstart's model (EASE, trained on all ratings first; training time
 *   is not counted);
 * - a synthetic 1M-user × 10k-item ALS model of rank 32 (random factors, 10 seen items per user).
 * Reports scoring time (CPU) against store time (store work not hidden behind scoring).
 *
 * Options: --skip-large (only MovieLens), --no-write
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatTable } from '../src/cli/kit.js';
import { publishModel, type PublishReport } from '../src/jobs/publish.js';
import { trainModel } from '../src/jobs/train.js';
import type { TrainedModel } from '../src/models/trained-model.js';
import { openStore } from '../src/store/open-store.js';
import { loadMovielens100k } from './movielens.js';
import { writeBenchmarkSection } from './report.js';
import { syntheticAlsModel } from './serve-model.js';
import { startBenchRedis } from './serve-redis.js';

const { values: args } = parseArgs({ options: { 'skip-large': { type: 'boolean', default: false }, 'no-write': { type: 'boolean', default: false } } });

interface Case {
  readonly name: string;
  readonly build: () => Promise<TrainedModel>;
}

const CASES: Case[] = [
  { name: 'MovieLens 100K, EASE', build: async () => trainModel(await loadMovielens100k(), { type: 'ease' }) },
  ...(args['skip-large'] ? [] : [{ name: 'synthetic 1M users × 10k items, ALS rank 32', build: () => Promise.resolve(syntheticAlsModel({ users: 1_000_000, items: 10_000, rank: 32, seenPerUser: 10 })) }]),
];

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'rtrec-bench-publish-'));
  const redis = await startBenchRedis();
  const rows: (string | number)[][] = [];
  try {
    for (const c of CASES) {
      process.stderr.write(`${c.name}: building the model…\n`);
      const model = await c.build();
      const stores = [['LMDB', `lmdb://${join(dir, c.name.replace(/\W+/g, '-'))}`], ...(redis ? [['Redis', `${redis.url}?prefix=${c.name.replace(/\W+/g, '-')}`]] : [])];
      for (const [label, url] of stores) {
        process.stderr.write(`${c.name}: publishing to ${label}…\n`);
        const store = await openStore(url);
        const r: PublishReport = await publishModel(model, store, { progress: process.stderr.isTTY });
        await store.close();
        rows.push([c.name, label, r.counts.u, r.counts.c, r.scoringSeconds, r.writeSeconds, r.totalSeconds, Math.round(r.counts.u / r.totalSeconds)]);
        process.stderr.write(`  scoring ${r.scoringSeconds.toFixed(1)} s, store ${r.writeSeconds.toFixed(1)} s, total ${r.totalSeconds.toFixed(1)} s\n`);
      }
    }
  } finally {
    await redis?.stop();
    await rm(dir, { recursive: true, force: true });
  }
  const table = formatTable(['model', 'store', 'users', 'items', 'scoring s', 'store s', 'total s', 'users/s'], rows);
  process.stdout.write(`${table}\n`);
  const body = [
    'Publishing = top-100 per user (seen items excluded), 20 similar items per item, popularity list and catalogue, written in batches of 1000 (one LMDB transaction or one Redis pipeline each), verified (counts and a read-back sample checksum), then activated. '
      + 'Scoring runs on the publishing thread for models under 20k users (MovieLens) and on worker threads (min(cores, 4)) for the 1M-user model, while the store writes the previous batch; '
      + '"scoring s" and "store s" are the times the publishing thread spent on each without the other running behind it (store: handing batches over, waiting for the previous batch, verification), so scoring s + store s ≈ total s. '
      + `Redis: a local redis-server without persistence.${redis ? '' : ' (redis-server not installed: no Redis rows.)'}`,
    '',
    '```',
    table,
    '```',
  ].join('\n');
  if (!args['no-write']) await writeBenchmarkSection('publish', 'Publishing: precompute and write a version (`npm run bench:publish`)', body);
}

await main();
