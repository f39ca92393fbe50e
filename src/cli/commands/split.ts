/**
 * @module `rtrec split`: load a data set, split it into train and test with one of the split
 * strategies, and write `train.csv` and `test.csv` (canonical CSV) into a folder — both or neither.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { checkReplaceableFolder, writeDirAtomic } from '../../core/atomic-fs.js';
import { RecError } from '../../core/errors.js';
import { createProgress, progressEnabledByDefault } from '../../core/progress.js';
import { DEFAULT_SEED } from '../../core/rng.js';
import type { Interactions } from '../../data/interactions.js';
import { loadDataset } from '../../data/load-dataset.js';
import { DEFAULT_SPLIT_RATIO, SPLIT_BY, SPLIT_STRATEGIES, splitInteractions, type SplitBy, type SplitOptions, type SplitStrategy } from '../../data/split.js';
import { writeInteractionsCsv } from '../../data/write-interactions.js';
import { emit, formatTable, parseChoice, parseIntOption, parseNumberOption } from '../kit.js';
import { addLoadOptions, loadOptionsFrom } from './data.js';

const OUTPUT_FILES = ['train.csv', 'test.csv'] as const;

interface SplitFlags {
  data: string;
  strategy: SplitStrategy;
  by?: SplitBy;
  ratio?: number;
  n?: number;
  minRating?: number;
  seed?: number;
  out: string;
  json?: boolean;
}

/** Split flags (commander names) each strategy uses; any other given flag is an error rather than silently ignored. */
const FLAGS_BY_STRATEGY: Record<SplitStrategy, readonly (keyof SplitFlags)[]> = {
  random: ['ratio', 'seed'],
  stratified: ['ratio', 'by', 'minRating', 'seed'],
  chronological: ['ratio', 'by', 'minRating'],
  'leave-last-n-out': ['n'],
};
const FLAG_NAMES: Partial<Record<keyof SplitFlags, string>> = { ratio: '--ratio', seed: '--seed', by: '--by', minRating: '--min-rating', n: '--n' };

export function registerSplitCommand(program: Command): void {
  const cmd = program
    .command('split')
    .description('Split a data set into train.csv and test.csv (random, per-user/item stratified, chronological or leave-last-n-out)')
    .requiredOption('--data <path>', 'data folder (MovieLens) or interactions file (CSV/TSV/JSONL)')
    .requiredOption('--strategy <strategy>', `split strategy: ${SPLIT_STRATEGIES.join(', ')}`, parseChoice('--strategy', SPLIT_STRATEGIES))
    .option('--by <key>', 'group by user or item (stratified, chronological; default user)', parseChoice('--by', SPLIT_BY))
    .option('--ratio <fraction>', `train fraction, overall (random) or per group (stratified, chronological); default ${DEFAULT_SPLIT_RATIO}`, parseOpenFraction('--ratio'))
    .option('--n <count>', 'latest interactions per user to hold out (leave-last-n-out; default 1)', parseIntOption('--n', 1))
    .option('--min-rating <count>', 'drop users (or items, with --by item) with fewer interactions first (stratified, chronological; default 1)', parseIntOption('--min-rating', 1))
    .option('--seed <n>', `random seed (random, stratified; default ${DEFAULT_SEED})`, parseIntOption('--seed', 0, 2 ** 32 - 1))
    .requiredOption('--out <dir>', 'folder to write train.csv and test.csv to (new, empty, or a previous split)')
    .option('--json', 'print the result as JSON');
  addLoadOptions(cmd);
  cmd.action(async (flags: SplitFlags) => {
    await runSplit(flags);
  });
}

async function runSplit(flags: SplitFlags): Promise<void> {
  const options = splitOptionsFrom(flags);
  await checkOutputFolder(flags.out);
  const log = (line: string) => { if (!flags.json) process.stderr.write(`${line}\n`); };
  const dataset = await loadDataset(flags.data, loadOptionsFrom(flags));
  const x = dataset.interactions;
  log(`loaded ${x.length} interactions, ${x.users.size} users, ${x.items.size} items from ${dataset.source}`);

  const { train, test } = splitInteractions(x, options);
  const showProgress = !flags.json && progressEnabledByDefault();
  await writeDirAtomic(flags.out, async (dir) => {
    for (const [file, part] of [[OUTPUT_FILES[0], train], [OUTPUT_FILES[1], test]] as const) {
      const bar = createProgress(`writing ${file}`, part.length, { enabled: showProgress });
      await writeInteractionsCsv(join(dir, file), part, { onProgress: (written) => bar.update(written) });
      bar.stop();
    }
  });

  const trainStats = countsOf(train);
  const testStats = countsOf(test);
  const cold = coldCounts(train, test);
  const dropped = x.length - train.length - test.length;
  const result = {
    source: dataset.source,
    out: flags.out,
    split: options,
    train: { file: join(flags.out, OUTPUT_FILES[0]), ...trainStats },
    test: { file: join(flags.out, OUTPUT_FILES[1]), ...testStats, usersNotInTrain: cold.users, itemsNotInTrain: cold.items },
    dropped,
  };
  emit(Boolean(flags.json), result, () => {
    const lines = [
      `split ${dataset.source} (${describe(options)}) → ${flags.out}`,
      formatTable(['set', 'rows', 'users', 'items', 'file'], [
        ['train', trainStats.rows, trainStats.users, trainStats.items, result.train.file],
        ['test', testStats.rows, testStats.users, testStats.items, result.test.file],
      ]),
    ];
    if (dropped > 0) lines.push(`${dropped} rows dropped by --min-rating ${options.minRating}`);
    if (cold.users > 0 || cold.items > 0) lines.push(`test has ${cold.users} users and ${cold.items} items that are not in train`);
    if (train.length === 0 || test.length === 0) lines.push(`warning: the ${train.length === 0 ? 'train' : 'test'} set is empty`);
    return lines.join('\n');
  });
}

function splitOptionsFrom(flags: SplitFlags): SplitOptions {
  const allowed = FLAGS_BY_STRATEGY[flags.strategy];
  for (const [key, name] of Object.entries(FLAG_NAMES) as [keyof SplitFlags, string][]) {
    if (flags[key] !== undefined && !allowed.includes(key)) {
      const users = SPLIT_STRATEGIES.filter((s) => FLAGS_BY_STRATEGY[s].includes(key));
      throw new RecError('RTREC_ERR_CONFIG_INVALID', `${name} does not apply to --strategy ${flags.strategy} (it is used by ${users.join(', ')})`);
    }
  }
  const options: SplitOptions = { strategy: flags.strategy };
  if (allowed.includes('ratio')) options.ratio = flags.ratio ?? DEFAULT_SPLIT_RATIO;
  if (allowed.includes('seed')) options.seed = flags.seed ?? DEFAULT_SEED;
  if (allowed.includes('by')) options.by = flags.by ?? 'user';
  if (allowed.includes('minRating')) options.minRating = flags.minRating ?? 1;
  if (allowed.includes('n')) options.n = flags.n ?? 1;
  return options;
}

/** A fraction strictly between 0 and 1, checked before any data is read. */
function parseOpenFraction(flag: string): (value: string) => number {
  const inRange = parseNumberOption(flag, 0, 1);
  return (value) => {
    const n = inRange(value);
    if (n === 0 || n === 1) throw new RecError('RTREC_ERR_CONFIG_INVALID', `${flag} is the train fraction and must be strictly between 0 and 1, got ${JSON.stringify(value)}`);
    return n;
  };
}

/**
 * The output folder is replaced as a whole (that is what makes the write atomic), so refuse a folder
 * that holds anything besides a previous split's files rather than delete someone's data.
 */
function checkOutputFolder(out: string): Promise<void> {
  return checkReplaceableFolder(out, {
    what: `--out ${out}`,
    foreign: (entries) => entries.filter((e) => !(OUTPUT_FILES as readonly string[]).includes(e)),
    described: 'other files',
    advice: 'a new or empty folder',
  });
}

function describe(o: SplitOptions): string {
  const parts: string[] = [o.strategy];
  if (o.by !== undefined) parts.push(`by ${o.by}`);
  if (o.ratio !== undefined) parts.push(`ratio ${o.ratio}`);
  if (o.minRating !== undefined && o.minRating > 1) parts.push(`min-rating ${o.minRating}`);
  if (o.n !== undefined) parts.push(`n ${o.n}`);
  if (o.seed !== undefined) parts.push(`seed ${o.seed}`);
  return parts.join(', ');
}

/** Rows and the number of distinct users and items that occur in them. */
function countsOf(x: Interactions): { rows: number; users: number; items: number } {
  return { rows: x.length, users: distinct(x.user, x.users.size), items: distinct(x.item, x.items.size) };
}

function distinct(idx: Int32Array, size: number): number {
  const seen = new Uint8Array(size);
  let count = 0;
  for (let j = 0; j < idx.length; j++) {
    if (!seen[idx[j]]) {
      seen[idx[j]] = 1;
      count++;
    }
  }
  return count;
}

/** Distinct test users and items with no train row (cold start for an evaluation on this split). */
function coldCounts(train: Interactions, test: Interactions): { users: number; items: number } {
  const cold = (trainIdx: Int32Array, testIdx: Int32Array, size: number): number => {
    const state = new Uint8Array(size); // 1 = in train, 2 = counted cold
    for (let j = 0; j < trainIdx.length; j++) state[trainIdx[j]] = 1;
    let count = 0;
    for (let j = 0; j < testIdx.length; j++) {
      if (state[testIdx[j]] === 0) {
        state[testIdx[j]] = 2;
        count++;
      }
    }
    return count;
  };
  return { users: cold(train.user, test.user, train.users.size), items: cold(train.item, test.item, train.items.size) };
}
