/**
 * @module `rtrec publish`: precomputes a model's per-user top-K (seen items excluded), similar items,
 * popularity list and item catalogue, and publishes them to an online store as a new version that
 * becomes active only once it reads back as written.
 */
import type { Command } from 'commander';
import { progressEnabledByDefault } from '../../core/progress.js';
import { PUBLISH_DEFAULTS, publishModel, type PublishReport } from '../../jobs/publish.js';
import { loadModel } from '../../models/model-io.js';
import { unfixedLmdbWarning } from '../../store/lmdb-binary.js';
import { DEFAULT_STORE_URL, openStore, resolveStoreUrl } from '../../store/open-store.js';
import { emit, parseIntOption } from '../kit.js';

export interface PublishFlags {
  model: string;
  store?: string;
  topK: number;
  similarK: number;
  popularK: number;
  batch: number;
  threads?: number;
  activate: boolean;
  json?: boolean;
}

export function registerPublishCommand(program: Command): void {
  program
    .command('publish')
    .description('Precompute top-K recommendations, similar items and the popularity list of a model and publish them to an online store as a new version')
    .requiredOption('--model <dir>', 'model folder written by rtrec train')
    .option('--store <url>', `online store: lmdb:///path, redis://host:port/db or redis+cluster://h1:p1,h2:p2 (default $RTREC_STORE or ${DEFAULT_STORE_URL})`)
    .option('--top-k <n>', 'items per user list (k and filters at serve time are answered from it)', parseIntOption('--top-k', 1, 1000), PUBLISH_DEFAULTS.topK)
    .option('--similar-k <n>', 'items per similar-items list', parseIntOption('--similar-k', 1, 1000), PUBLISH_DEFAULTS.similarK)
    .option('--popular-k <n>', 'items in the popularity list', parseIntOption('--popular-k', 1, 10_000), PUBLISH_DEFAULTS.popularK)
    .option('--batch <n>', 'lists per store write (transaction or pipeline)', parseIntOption('--batch', 1, 100_000), PUBLISH_DEFAULTS.batchSize)
    .option('--threads <n>', 'worker threads for scoring (default: min(cores, 4) for models of 20k users or more, else 1)', parseIntOption('--threads', 1, 256))
    .option('--no-activate', 'write and verify the version but leave the active version unchanged')
    .option('--json', 'print the result as JSON')
    .action(async (flags: PublishFlags) => {
      await runPublish(flags);
    });
}

/** The command's action: load, publish, print. Resolves with the report. */
export async function runPublish(flags: PublishFlags): Promise<PublishReport> {
  const model = await loadModel(flags.model);
  const url = resolveStoreUrl(flags.store);
  const store = await openStore(url);
  const unfixed = unfixedLmdbWarning(url);
  if (unfixed) process.stderr.write(`warning: ${unfixed}\n`);
  try {
    const report = await publishModel(model, store, {
      topK: flags.topK,
      similarK: flags.similarK,
      popularK: flags.popularK,
      batchSize: flags.batch,
      activate: flags.activate,
      ...(flags.threads === undefined ? {} : { threads: flags.threads }),
      progress: !flags.json && progressEnabledByDefault(),
    });
    emit(Boolean(flags.json), report, () => formatReport(report));
    return report;
  } finally {
    await store.close();
  }
}

export function formatReport(r: PublishReport): string {
  return [
    `published version ${r.version} to ${r.store}${r.activated ? ' (now active)' : ' (not activated)'}`,
    `  user lists ${r.counts.u}, similar-item lists ${r.counts.s}, catalogue ${r.counts.c} items, popularity list ${r.counts.p}`,
    `  scoring ${r.scoringSeconds.toFixed(2)} s, store ${r.writeSeconds.toFixed(2)} s (not hidden behind scoring), total ${r.totalSeconds.toFixed(2)} s`,
    ...(r.notes ?? []).map((n) => `warning: ${n}`),
  ].join('\n');
}
