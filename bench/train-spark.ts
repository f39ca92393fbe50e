/**
 * @module `npm run bench:train`, Spark part: training wall time and peak memory of the embedded
 * explicit ALS trainer against Spark MLlib ALS in local mode (`rtrec train --engine spark`), with the
 * same hyper-parameters (rank 10, 15 iterations, reg 0.05), on MovieLens 100K and on synthetic
 * explicit data sets of 1M (and, with --large, 10M) interactions.
 *
 *   node dist-bench/bench/train-spark.js [--large] [--master local[2]] [--driver-memory 4g] [--threads 2] [--no-write]
 *
 * Each run is a child process of its own, so its peak memory is its own. Embedded: the Node
 * process's max RSS (data, matrix and model included). Spark: the peak of the summed RSS of
 * spark-submit's process group (JVM and Python driver), sampled every 100 ms from /proc, and
 * separately the Node parent's max RSS (data, canonical CSV writing, import). Spark's wall time
 * is the whole `trainWithSpark` call: CSV hand-off, JVM start-up, read, fit, export, import; its
 * own fit time (from export.json) is shown beside it. Data generation and loading are not timed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatTable } from '../src/cli/kit.js';
import type { Dataset } from '../src/data/interactions.js';
import { generateSynthetic } from '../src/data/synthetic.js';
import { trainWithSpark } from '../src/jobs/spark-train.js';
import { trainModel } from '../src/jobs/train.js';
import { loadMovielens100k } from './movielens.js';
import { writeBenchmarkSection } from './report.js';

const HYPER = { rank: 10, iterations: 15, reg: 0.05 } as const;
const ENGINES = ['embedded', 'spark'] as const;
type Engine = (typeof ENGINES)[number];

interface Sizing {
  readonly label: string;
  load(): Promise<Dataset>;
}

/** Synthetic explicit ratings with MovieLens-like shape: ~100 ratings per user, a catalogue ~1/10 of the users. */
function synthetic(interactions: number): Sizing {
  const numUsers = Math.round(interactions / 100);
  const numItems = Math.max(1000, Math.round(numUsers / 10));
  return {
    label: `synthetic ${interactions / 1e6}M (${numUsers} users × ${numItems} items)`,
    load: () => Promise.resolve(generateSynthetic({ numUsers, numItems, numInteractions: interactions, explicit: true, seed: 7 })),
  };
}

const SIZES: Readonly<Record<string, Sizing>> = {
  ml100k: { label: 'MovieLens 100K (943 users × 1682 items)', load: loadMovielens100k },
  '1m': synthetic(1_000_000),
  '10m': synthetic(10_000_000),
};

interface RunResult {
  readonly engine: Engine;
  readonly size: string;
  readonly interactions: number;
  readonly wallSeconds: number;
  /** Spark's own fit step (export.json fitSeconds); undefined for embedded. */
  readonly sparkFitSeconds?: number;
  readonly nodePeakMb: number;
  readonly sparkPeakMb?: number;
  readonly rmseTrain?: number;
}

function arg(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

/** Summed resident memory of every process in group `pgid`, in bytes (Linux /proc). */
function groupRss(pgid: number): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after "(comm)": state ppid pgrp … ; rss (pages) is field 24, i.e. index 21 here.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid) total += Number(fields[21]) * PAGE_BYTES;
    } catch {
      // The process ended between readdir and read.
    }
  }
  return total;
}

const PAGE_BYTES = (() => {
  try {
    return Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim()) || 4096;
  } catch {
    return 4096;
  }
})();

async function child(engine: Engine, size: string, master: string, threads: number, driverMemory: string): Promise<RunResult> {
  const dataset = await SIZES[size].load();
  const interactions = dataset.interactions.length;
  const started = performance.now();
  if (engine === 'embedded') {
    const model = await trainModel(dataset, { type: 'als', hyperParameters: HYPER, threads });
    void model;
    return { engine, size, interactions, wallSeconds: (performance.now() - started) / 1000, nodePeakMb: process.resourceUsage().maxRSS / 1024 };
  }
  let peak = 0;
  let timer: NodeJS.Timeout | undefined;
  const result = await trainWithSpark({
    type: 'als',
    hyperParameters: HYPER,
    dataset,
    master,
    // In local mode the driver JVM is also the executor: its heap holds the ratings blocks.
    conf: [`spark.driver.memory=${driverMemory}`],
    log: () => undefined,
    liveProgress: false,
    onSpawn: (pid) => {
      timer = setInterval(() => {
        peak = Math.max(peak, groupRss(pid));
      }, 100);
    },
  });
  clearInterval(timer);
  return {
    engine,
    size,
    interactions,
    wallSeconds: (performance.now() - started) / 1000,
    sparkFitSeconds: result.sparkExport.timings.fitSeconds,
    nodePeakMb: process.resourceUsage().maxRSS / 1024,
    sparkPeakMb: peak / 2 ** 20,
    ...(result.sparkExport.trainRmse === undefined ? {} : { rmseTrain: result.sparkExport.trainRmse }),
  };
}

function runChild(engine: Engine, size: string, master: string, threads: number, driverMemory: string): RunResult {
  const script = fileURLToPath(import.meta.url);
  const out = spawnSync(process.execPath, [script, '--child', engine, size, '--master', master, '--threads', String(threads), '--driver-memory', driverMemory], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 20,
  });
  if (out.status !== 0) throw new Error(`${engine} on ${size} failed (exit ${out.status})`);
  return JSON.parse(out.stdout.trim().split('\n').pop() ?? '') as RunResult;
}

async function main(): Promise<void> {
  const master = arg('--master') ?? 'local[2]';
  const threads = Number(arg('--threads') ?? 2);
  const driverMemory = arg('--driver-memory') ?? '4g';
  const at = process.argv.indexOf('--child');
  if (at >= 0) {
    const result = await child(process.argv[at + 1] as Engine, process.argv[at + 2], master, threads, driverMemory);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const sizes = ['ml100k', '1m', ...(process.argv.includes('--large') ? ['10m'] : [])];
  const rows: (string | number)[][] = [];
  for (const size of sizes) {
    const runs: Partial<Record<Engine, RunResult>> = {};
    for (const engine of ENGINES) {
      process.stderr.write(`${size}: ${engine} …\n`);
      runs[engine] = runChild(engine, size, master, threads, driverMemory);
    }
    const e = runs.embedded!, s = runs.spark!;
    rows.push([SIZES[size].label, e.interactions, e.wallSeconds, s.wallSeconds, s.sparkFitSeconds ?? NaN, s.wallSeconds / e.wallSeconds, e.nodePeakMb, (s.sparkPeakMb ?? 0) + s.nodePeakMb]);
  }
  const table = formatTable(
    ['data set', 'interactions', 'embedded s', 'Spark s', 'Spark fit s', 'Spark / embedded', 'embedded peak MB', 'Spark peak MB (JVM+Python+Node)'],
    rows,
  );
  const body = [
    `Explicit ALS, rank ${HYPER.rank}, ${HYPER.iterations} iterations, reg ${HYPER.reg}; embedded with ${threads} worker threads, Spark ${master} with spark.driver.memory=${driverMemory} (PySpark from jobs/spark/.venv).`,
    'Spark s is the whole `rtrec train --engine spark` round trip (CSV hand-off, JVM start-up, read, fit, export, import); Spark fit s is its ALS fit step alone.',
    '',
    table,
  ].join('\n');
  process.stdout.write(`${body}\n`);
  if (!process.argv.includes('--no-write')) await writeBenchmarkSection('train-spark', 'Training: embedded ALS vs Spark local mode', body);
}

await main();
