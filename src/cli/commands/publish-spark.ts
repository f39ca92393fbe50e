/**
 * @module `rtrec publish-spark`: publishes the lists the Spark job precomputed on the cluster
 * (`train_als.py --precompute-k`) to an online store as a new version, in the same versioned layout
 * as `rtrec publish`, without scoring anything on this machine.
 */
import type { Command } from 'commander';
import { progressEnabledByDefault } from '../../core/progress.js';
import type { ItemMetadata } from '../../data/interactions.js';
import { loadItemMetadataFile } from '../../data/load-item-metadata.js';
import { PUBLISH_DEFAULTS } from '../../jobs/publish.js';
import { publishSparkExport, type PublishSparkReport } from '../../jobs/publish-spark.js';
import { loadModel } from '../../models/model-io.js';
import { DEFAULT_STORE_URL, openStore, resolveStoreUrl } from '../../store/open-store.js';
import { emit, parseIntOption } from '../kit.js';

export interface PublishSparkFlags {
  from: string;
  store?: string;
  model?: string;
  items?: string;
  popularK: number;
  batch: number;
  activate: boolean;
  json?: boolean;
}

export function registerPublishSparkCommand(program: Command): void {
  program
    .command('publish-spark')
    .description('Publish the lists a Spark job precomputed (train_als.py --precompute-k) to an online store as a new version')
    .requiredOption('--from <dir>', 'Spark export folder holding precompute/ (local; tables as files or folders of part files)')
    .option('--store <url>', `online store: lmdb:///path, redis://host:port/db or redis+cluster://h1:p1,h2:p2 (default $RTREC_STORE or ${DEFAULT_STORE_URL})`)
    .option('--model <dir>', 'model folder (e.g. from rtrec import-model) whose item metadata goes into the catalogue')
    .option('--items <file>', 'item metadata file (CSV/TSV with an item id column) for the catalogue; overrides --model')
    .option('--popular-k <n>', 'items in the popularity list', parseIntOption('--popular-k', 1, 10_000), PUBLISH_DEFAULTS.popularK)
    .option('--batch <n>', 'lists per store write (transaction or pipeline)', parseIntOption('--batch', 1, 100_000), PUBLISH_DEFAULTS.batchSize)
    .option('--no-activate', 'write and verify the version but leave the active version unchanged')
    .option('--json', 'print the result as JSON')
    .action(async (flags: PublishSparkFlags) => {
      await runPublishSpark(flags);
    });
}

/** The command's action: read metadata, publish, print. Resolves with the report. */
export async function runPublishSpark(flags: PublishSparkFlags): Promise<PublishSparkReport> {
  const itemMetadata = await metadataFrom(flags);
  const store = await openStore(resolveStoreUrl(flags.store));
  try {
    const report = await publishSparkExport(flags.from, store, {
      popularK: flags.popularK,
      batchSize: flags.batch,
      activate: flags.activate,
      itemMetadata,
      progress: !flags.json && progressEnabledByDefault(),
    });
    emit(Boolean(flags.json), report, () => formatSparkReport(report));
    return report;
  } finally {
    await store.close();
  }
}

async function metadataFrom(flags: PublishSparkFlags): Promise<ItemMetadata | null> {
  if (flags.items !== undefined) return loadItemMetadataFile(flags.items);
  if (flags.model !== undefined) return (await loadModel(flags.model)).itemMetadata;
  return null;
}

export function formatSparkReport(r: PublishSparkReport): string {
  return [
    `published version ${r.version} to ${r.store}${r.activated ? ' (now active)' : ' (not activated)'} from Spark's precompute`,
    `  user lists ${r.counts.u} (top ${r.topK}), similar-item lists ${r.counts.s} (top ${r.similarK}), catalogue ${r.counts.c} items, popularity list ${r.counts.p}`,
    `  ${r.totalSeconds.toFixed(2)} s, ${Math.round(r.listsPerSecond)} lists/s`,
  ].join('\n');
}
