/**
 * @module `rtrec quickstart`: the main job for a newcomer, end to end on MovieLens 100K with the
 * embedded defaults — find or download the data, split it as the Microsoft Recommenders benchmark
 * does (stratified by item, 75/25, seed 42), train the best model we know, evaluate, save, publish
 * to the embedded LMDB store and serve the API (no external server anywhere).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { RecError } from '../../core/errors.js';
import { iterationProgress, progressEnabledByDefault } from '../../core/progress.js';
import { downloadDataset } from '../../data/download.js';
import { loadDataset } from '../../data/load-dataset.js';
import { reindex } from '../../data/interactions.js';
import { splitInteractions } from '../../data/split.js';
import { evaluateModel } from '../../jobs/evaluate-model.js';
import { metricsTable } from '../metrics-table.js';
import { trainModel } from '../../jobs/train.js';
import { checkModelFolderReplaceable, saveModel } from '../../models/model-io.js';
import { publishModel } from '../../jobs/publish.js';
import { DEFAULT_STORE_URL, openStore } from '../../store/open-store.js';
import { loadServeConfig } from '../../serve/config.js';
import { runServe } from '../../serve/server.js';
import type { ModelType } from '../../models/recommender.js';
import { emit, parseChoice, parseIntOption } from '../kit.js';
import { MODEL_TYPES } from '../../models/recommender.js';

/** The model the quickstart trains: the best ranker on the benchmark (see BENCHMARKS.md, bench:quality). */
export const BEST_MODEL: ModelType = 'ease';

interface QuickstartFlags {
  data?: string;
  out: string;
  store: string;
  port: number;
  serve: boolean;
  model: ModelType;
  k: number;
  json?: boolean;
}

export function registerQuickstartCommand(program: Command): void {
  program
    .command('quickstart')
    .description('Get MovieLens 100K, split it, train the best model, evaluate it, publish it to the embedded store and serve the API — one command')
    .option('--data <dir>', 'MovieLens 100K folder (default: $RTREC_DATA_DIR/ml-100k, ./data/ml-100k, else download into ./data)')
    .option('--out <dir>', 'where to save the model', 'models/quickstart')
    .option('--model <type>', `model type: ${MODEL_TYPES.join(', ')}`, parseChoice('--model', MODEL_TYPES), BEST_MODEL)
    .option('--k <n>', 'cut-off for ranking metrics', parseIntOption('--k', 1, 100), 10)
    .option('--store <url>', 'online store to publish to', DEFAULT_STORE_URL)
    .option('--port <n>', 'port of the API', parseIntOption('--port', 0, 65535), 8080)
    .option('--no-serve', 'stop after publishing instead of serving the API')
    .option('--json', 'print the result as JSON')
    .action(async (flags: QuickstartFlags) => {
      await runQuickstart(flags);
    });
}

/** The data folder to use: explicit flag, then $RTREC_DATA_DIR/ml-100k, then ./data/ml-100k, else download. */
async function findOrDownload(flag: string | undefined, log: (line: string) => void): Promise<string> {
  if (flag) return flag;
  const candidates = [process.env.RTREC_DATA_DIR && join(process.env.RTREC_DATA_DIR, 'ml-100k'), resolve('data/ml-100k')].filter(Boolean) as string[];
  for (const dir of candidates) if (existsSync(join(dir, 'u.data'))) return dir;
  log('MovieLens 100K not found locally; downloading it from GroupLens into ./data');
  try {
    return (await downloadDataset('movielens-100k', resolve('data'))).path;
  } catch (err) {
    if (err instanceof RecError && err.code === 'RTREC_ERR_DATA_DOWNLOAD') {
      throw new RecError('RTREC_ERR_DATA_DOWNLOAD', `${err.message}\nIf you already have MovieLens 100K, point to it: RTREC_DATA_DIR=/folder/holding/ml-100k or --data /path/to/ml-100k`, { cause: err });
    }
    throw err;
  }
}

async function runQuickstart(flags: QuickstartFlags): Promise<void> {
  const log = (line: string) => { if (!flags.json) process.stderr.write(`${line}\n`); };
  const showBars = !flags.json && progressEnabledByDefault();
  await checkModelFolderReplaceable(flags.out, `--out ${flags.out}`);
  const dataDir = await findOrDownload(flags.data, log);
  const dataset = await loadDataset(dataDir);
  const x = dataset.interactions;
  log(`1/5 loaded ${x.length} ratings by ${x.users.size} users on ${x.items.size} items from ${dataDir}`);

  const split = splitInteractions(x, { strategy: 'stratified', by: 'item', ratio: 0.75, seed: 42 });
  // The model knows only the users and items of train, as a model trained from train.csv would.
  const train = reindex(split.train);
  const test = reindex(split.test, train.users.clone(), train.items.clone());
  log(`2/5 split stratified by item 75/25 (seed 42): ${train.length} train, ${test.length} test rows`);

  const bar = iterationProgress(`3/5 train ${flags.model}`, showBars);
  const model = await trainModel({ ...dataset, interactions: train }, { type: flags.model, onIteration: bar.onIteration });
  bar.stop();
  log(`3/5 trained ${flags.model} in ${model.info.training.seconds.toFixed(2)} s`);

  const metrics = evaluateModel(model, test, { k: flags.k, showProgress: showBars });
  model.info = { ...model.info, metrics };
  await saveModel(flags.out, model);
  log(`4/5 evaluated on ${metrics.users} test users; model saved to ${flags.out}`);

  const store = await openStore(flags.store);
  let published;
  try {
    published = await publishModel(model, store, { progress: showBars });
  } finally {
    await store.close();
  }
  log(`5/5 published version ${published.version} to ${published.store} in ${published.totalSeconds.toFixed(2)} s`);

  const user = model.users.idOf(0);
  const item = model.items.idOf(0);
  emit(Boolean(flags.json), { data: dataDir, model: flags.model, out: flags.out, hyperParameters: model.info.hyperParameters, metrics, store: published.store, version: published.version }, () =>
    [
      '',
      metricsTable(metrics, flags.k),
      '',
      flags.serve ? `Serving on http://127.0.0.1:${flags.port} (Ctrl-C stops). Try:` : `Published. Serve it with: node bin/rtrec.js serve --store ${flags.store} --port ${flags.port}; then try:`,
      `  curl 'http://127.0.0.1:${flags.port}/v1/users/${user}/recommendations?k=5'`,
      `  curl 'http://127.0.0.1:${flags.port}/v1/users/new-user/recommendations?k=5'     # unknown user: popular items`,
      `  curl 'http://127.0.0.1:${flags.port}/v1/items/${item}/similar?k=5'`,
      `  curl 'http://127.0.0.1:${flags.port}/v1/popular?k=5'`,
      `  open http://127.0.0.1:${flags.port}/docs                                      # OpenAPI`,
    ].join('\n'),
  );
  // --model-dir lets the server fold events into recommendations (POST /v1/events, needs RTREC_API_KEYS).
  if (flags.serve) await runServe(loadServeConfig({ flags: { store: flags.store, port: flags.port, modelDir: flags.out } }));
}
