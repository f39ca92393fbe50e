/**
 * @module `rtrec data generate`: write a seeded synthetic interaction file (planted low-rank taste,
 * Zipf popularity, sessions with timestamps; implicit or explicit) and optionally its item metadata.
 */
import type { Command } from 'commander';
import { RecError } from '../../core/errors.js';
import { createProgress, progressEnabledByDefault } from '../../core/progress.js';
import { DEFAULT_SEED } from '../../core/rng.js';
import { generateSynthetic } from '../../data/synthetic.js';
import { writeItemMetadataCsv } from '../../data/synthetic-items.js';
import { writeInteractionsCsv } from '../../data/write-interactions.js';
import { emit, formatTable, parseIntOption, parseNumberOption } from '../kit.js';

interface GenerateFlags {
  users: number;
  items: number;
  interactions: number;
  rank: number;
  zipf: number;
  activitySigma: number;
  explicit?: boolean;
  halfStars?: boolean;
  allowRepeats?: boolean;
  spanDays: number;
  seed: number;
  out: string;
  itemsOut?: string;
  json?: boolean;
}

/** Adds `generate` to the given `rtrec data` command. */
/** Users and items are int32 indices. */
const MAX_IDS = 2 ** 31 - 1;

/**
 * Runs the generator, turning a failed allocation (a size the flags allow but memory does not) into
 * a clear error instead of a RangeError's stack trace.
 */
function generateWithin<T>(generate: () => T, flags: { users: number; items: number; rank: number }): T {
  try {
    return generate();
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    throw new RecError('RTREC_ERR_CONFIG_INVALID', `--users ${flags.users} --items ${flags.items} --rank ${flags.rank} is too large to generate in memory here (${err.message})`);
  }
}

export function registerDataGenerateCommand(dataCommand: Command): void {
  dataCommand
    .command('generate')
    .description('Write a seeded synthetic data set with planted low-rank structure, Zipf popularity and sessions')
    .requiredOption('--users <n>', 'number of users (each gets at least one interaction)', parseIntOption('--users', 1, MAX_IDS))
    .requiredOption('--items <n>', 'number of items', parseIntOption('--items', 1, MAX_IDS))
    .requiredOption('--interactions <n>', 'number of interactions (met exactly)', parseIntOption('--interactions', 1, 2 ** 31 - 1))
    .option('--rank <n>', 'planted latent dimensions', parseIntOption('--rank', 1, 1024), 16)
    .option('--zipf <exponent>', 'Zipf exponent of item popularity (0 = uniform)', parseNumberOption('--zipf', 0, 10), 1)
    .option('--activity-sigma <sigma>', 'spread of per-user activity (σ of its log; 0 = equal)', parseNumberOption('--activity-sigma', 0, 5), 1)
    .option('--explicit', 'write 1–5 star ratings derived from the planted affinity plus noise (default: implicit, no rating column)')
    .option('--half-stars', 'explicit ratings in half stars (implies --explicit)')
    .option('--allow-repeats', 'let a user interact with the same item more than once')
    .option('--span-days <days>', 'length of the time window of the timestamps', parseNumberOption('--span-days', 1 / 24, 36_500), 365)
    .option('--seed <n>', 'random seed', parseIntOption('--seed', 0, 2 ** 32 - 1), DEFAULT_SEED)
    .requiredOption('--out <file>', 'interactions CSV to write (userId,itemId[,rating],timestamp)')
    .option('--items-out <file>', 'also write item metadata CSV (itemId,title,genres)')
    .option('--json', 'print the result as JSON')
    .action(async (flags: GenerateFlags) => {
      await runGenerate(flags);
    });
}

async function runGenerate(flags: GenerateFlags): Promise<void> {
  const showProgress = !flags.json && progressEnabledByDefault();
  const started = performance.now();
  const genBar = createProgress('generating', flags.users, { enabled: showProgress });
  const data = generateWithin(() => generateSynthetic({
    numUsers: flags.users,
    numItems: flags.items,
    numInteractions: flags.interactions,
    rank: flags.rank,
    zipf: flags.zipf,
    activitySigma: flags.activitySigma,
    explicit: Boolean(flags.explicit || flags.halfStars),
    halfStars: Boolean(flags.halfStars),
    allowRepeats: Boolean(flags.allowRepeats),
    spanDays: flags.spanDays,
    seed: flags.seed,
    onProgress: (done) => genBar.update(done),
  }), flags);
  genBar.stop();
  const x = data.interactions;

  const writeBar = createProgress('writing', x.length, { enabled: showProgress });
  await writeInteractionsCsv(flags.out, x, { onProgress: (written) => writeBar.update(written) });
  writeBar.stop();
  if (flags.itemsOut !== undefined) await writeItemMetadataCsv(flags.itemsOut, x.items, data.itemMetadata);

  const times = timeRange(x.timestamp!);
  const result = {
    out: flags.out,
    ...(flags.itemsOut === undefined ? {} : { itemsOut: flags.itemsOut }),
    source: data.source,
    users: x.users.size,
    items: x.items.size,
    itemsWithInteractions: distinctCount(x.item, x.items.size),
    interactions: x.length,
    ratings: x.rating === null ? 'implicit' : flags.halfStars ? 'half stars 1-5' : 'stars 1-5',
    firstTimestamp: times.first,
    lastTimestamp: times.last,
    seconds: (performance.now() - started) / 1000,
  };
  emit(Boolean(flags.json), result, () =>
    [
      `generated ${x.length} interactions in ${result.seconds.toFixed(2)} s → ${flags.out}${flags.itemsOut === undefined ? '' : ` (items: ${flags.itemsOut})`}`,
      formatTable(['', 'value'], [
        ['users', result.users],
        ['items', result.items],
        ['items with interactions', result.itemsWithInteractions],
        ['interactions', result.interactions],
        ['ratings', result.ratings],
        ['from', new Date(times.first * 1000).toISOString()],
        ['to', new Date(times.last * 1000).toISOString()],
      ]),
    ].join('\n'),
  );
}

function timeRange(ts: Float64Array): { first: number; last: number } {
  let first = Infinity;
  let last = -Infinity;
  for (let j = 0; j < ts.length; j++) {
    if (ts[j] < first) first = ts[j];
    if (ts[j] > last) last = ts[j];
  }
  return { first, last };
}

function distinctCount(idx: Int32Array, size: number): number {
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
