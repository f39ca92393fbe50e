/**
 * @module `npm run bench:train`: training wall time and peak memory of the embedded trainer, each
 * case in its own child process so peak RSS belongs to that fit alone:
 * - explicit ALS (rank 10, 15 iterations) on MovieLens 100K — target < 1 s on 2 cores;
 * - implicit ALS (rank 64, 15 iterations) on synthetic 1M and 10M interaction sets (200k users ×
 *   20k items for 10M) — target < 60 s on 2 cores for 10M;
 * - EASE on MovieLens 100K.
 * Times exclude loading/generating the data; they include worker start-up.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { availableParallelism } from 'node:os';
import type { Dataset } from '../src/data/interactions.js';
import { generateSynthetic } from '../src/data/synthetic.js';
import { trainModel } from '../src/jobs/train.js';
import type { HyperParameters, ModelType } from '../src/models/recommender.js';
import { formatTable } from '../src/cli/kit.js';
import { loadMovielens100k } from './movielens.js';
import { median, writeBenchmarkSection } from './report.js';

interface Case {
  readonly name: string;
  readonly data: 'ml-100k' | 'synthetic-1m' | 'synthetic-10m';
  readonly type: ModelType;
  readonly hyperParameters: HyperParameters;
  readonly repeats: number;
  readonly targetSeconds?: number;
}

const CASES: readonly Case[] = [
  { name: 'als rank 10, 15 it', data: 'ml-100k', type: 'als', hyperParameters: { rank: 10, iterations: 15, reg: 0.05 }, repeats: 5, targetSeconds: 1 },
  { name: 'ease (λ 700)', data: 'ml-100k', type: 'ease', hyperParameters: {}, repeats: 5 },
  { name: 'ials rank 64, 15 it', data: 'ml-100k', type: 'ials', hyperParameters: { rank: 64, iterations: 15 }, repeats: 5 },
  { name: 'ials rank 64, 15 it', data: 'synthetic-1m', type: 'ials', hyperParameters: { rank: 64, iterations: 15 }, repeats: 3 },
  { name: 'ials rank 64, 15 it', data: 'synthetic-10m', type: 'ials', hyperParameters: { rank: 64, iterations: 15 }, repeats: 1, targetSeconds: 60 },
];

async function loadData(name: Case['data']): Promise<Dataset> {
  if (name === 'ml-100k') return loadMovielens100k();
  const big = name === 'synthetic-10m';
  return generateSynthetic({ numUsers: big ? 200_000 : 20_000, numItems: big ? 20_000 : 5_000, numInteractions: big ? 10_000_000 : 1_000_000, rank: 16, seed: 42 });
}

/** Child mode: one fit, prints {seconds, maxRssMiB} as JSON. */
async function child(index: number): Promise<void> {
  const c = CASES[index];
  const dataset = await loadData(c.data);
  const rssBefore = process.resourceUsage().maxRSS / 1024;
  const model = await trainModel(dataset, { type: c.type, hyperParameters: c.hyperParameters });
  process.stdout.write(JSON.stringify({ seconds: model.info.training.seconds, maxRssMiB: process.resourceUsage().maxRSS / 1024, dataRssMiB: rssBefore, nnz: model.info.numInteractions }));
}

async function parent(): Promise<void> {
  const run = promisify(execFile);
  const self = fileURLToPath(import.meta.url);
  const rows: (string | number)[][] = [];
  for (let i = 0; i < CASES.length; i++) {
    const c = CASES[i];
    const seconds: number[] = [];
    let rss = 0, nnz = 0, dataRss = 0;
    for (let r = 0; r < c.repeats; r++) {
      const { stdout } = await run(process.execPath, [self, '--case', String(i)], { maxBuffer: 1 << 20 });
      const result = JSON.parse(stdout) as { seconds: number; maxRssMiB: number; dataRssMiB: number; nnz: number };
      seconds.push(result.seconds);
      rss = Math.max(rss, result.maxRssMiB);
      dataRss = result.dataRssMiB;
      nnz = result.nnz;
    }
    const med = median(seconds);
    const verdict = c.targetSeconds === undefined ? '' : med < c.targetSeconds ? `< ${c.targetSeconds} s: met` : `< ${c.targetSeconds} s: NOT met`;
    rows.push([c.data, nnz, c.name, c.repeats, med, Math.round(dataRss), Math.round(rss), verdict]);
    process.stderr.write(`${c.data} ${c.name}: ${med.toFixed(2)} s\n`);
  }
  const body = [
    `Embedded trainer, ${availableParallelism()} worker threads; each fit in a fresh process (median of the runs shown). Peak RSS is the whole process, data included ("before fit" is the RSS once the data was loaded).`,
    '',
    '```',
    formatTable(['data', 'nonzeros', 'model', 'runs', 'fit s (median)', 'RSS before fit MiB', 'peak RSS MiB', 'target'], rows),
    '```',
  ].join('\n');
  process.stdout.write(`${body}\n`);
  await writeBenchmarkSection('train', 'Training speed and memory (embedded)', body);
}

const at = process.argv.indexOf('--case');
await (at >= 0 ? child(Number(process.argv[at + 1])) : parent());
