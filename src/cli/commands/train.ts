/**
 * @module `rtrec train`: load a data set, fit a model with its tuned defaults (or the given
 * hyper-parameters), optionally evaluate it on a test file, and save the model folder. A `--data`
 * file written by `rtrec events export` gives the model its events watermark (the log part it learned
 * from; see src/events/export-sidecar.ts for the rule with several files).
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { RecError } from '../../core/errors.js';
import { iterationProgress, progressEnabledByDefault } from '../../core/progress.js';
import { checkModelFolderReplaceable, saveModel } from '../../models/model-io.js';
import { MODEL_TYPES, type HyperParameters, type ModelType } from '../../models/recommender.js';
import { getFactory } from '../../models/registry.js';
import { trainModel } from '../../jobs/train.js';
import { trainWithSpark } from '../../jobs/spark-train.js';
import { evaluateModel } from '../../jobs/evaluate-model.js';
import { metricsTable } from '../metrics-table.js';
import { loadDataset } from '../../data/load-dataset.js';
import { trainingWatermark } from '../../events/export-sidecar.js';
import { concatInteractions, type Dataset } from '../../data/interactions.js';
import type { LoadOptions } from '../../data/load-options.js';
import { emit, formatTable, parseChoice, parseIntOption, parseNumberOption } from '../kit.js';
import { addLoadOptions, loadOptionsFrom } from './data.js';

/** Hyper-parameter flags: flag name → (hyper-parameter name, parser). Models ignore names they do not have. */
const HYPER_FLAGS = {
  rank: { name: 'rank', parse: parseIntOption('--rank', 1, 1024), help: 'latent factors (als, ials)' },
  iterations: { name: 'iterations', parse: parseIntOption('--iterations', 1, 1000), help: 'training iterations (als, ials)' },
  reg: { name: 'reg', parse: parseNumberOption('--reg', 0), help: "L2 regularisation (als: Spark's regParam, scaled by each user's and item's rating count; ials: λ, not scaled; --engine spark gives Spark λ / √(mean interactions per user × per item))" },
  alpha: { name: 'alpha', parse: parseNumberOption('--alpha', 0), help: 'confidence scale for implicit feedback (ials)' },
  lambda: { name: 'lambda', parse: parseNumberOption('--lambda', 0), help: 'L2 regularisation of EASE (ease)' },
  seed: { name: 'seed', parse: parseIntOption('--seed', 0, 2 ** 32 - 1), help: 'random seed' },
} as const;

/** Catalogues up to this size get EASE under --model auto (its dense item×item inverse grows as n²/n³). */
export const AUTO_EASE_MAX_ITEMS = 10_000;

const ENGINES = ['embedded', 'spark'] as const;
type Engine = (typeof ENGINES)[number];

interface TrainFlags {
  data: string[];
  model: ModelType | 'auto';
  engine: Engine;
  sparkMaster?: string;
  sparkConf: string[];
  out: string;
  test?: string;
  k: number;
  threads?: number;
  json?: boolean;
  [flag: string]: unknown;
}

export function registerTrainCommand(program: Command): void {
  const cmd = program
    .command('train')
    .description('Fit a model on a data set and save it (defaults are the tuned hyper-parameters)')
    .requiredOption('--data <path>', 'data folder (MovieLens) or interactions file (CSV/TSV/JSONL); repeat to combine, e.g. base data and `rtrec events export` output', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    .option(
      '--model <type>',
      `model type: auto, ${MODEL_TYPES.join(', ')} (auto: ease up to ${AUTO_EASE_MAX_ITEMS} items, the best ranker we measured; ials beyond; --engine spark: als)`,
      parseChoice('--model', ['auto', ...MODEL_TYPES] as const),
      'auto' as const,
    )
    .option('--engine <engine>', 'training engine: embedded (this process) or spark (spark-submit; als and ials only)', parseChoice('--engine', ENGINES), 'embedded' as Engine)
    .option('--spark-master <url>', 'with --engine spark: local[*] (default), local[N], spark://host:port, k8s://… (executors must share rtrec\'s TMPDIR, where it writes the rows; on YARN run jobs/spark/train_als.py directly)')
    .option('--spark-conf <key=value>', 'with --engine spark: Spark configuration, repeatable', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .requiredOption('--out <dir>', 'folder to write the model to (replaced atomically)')
    .option('--test <file>', 'evaluate on this test file after training and store the metrics in the model')
    .option('--k <n>', 'cut-off for ranking metrics with --test', parseIntOption('--k', 1, 1000), 10)
    .option('--threads <n>', 'worker threads (default: all cores)', parseIntOption('--threads', 1, 256))
    .option('--json', 'print the result as JSON');
  for (const [flag, spec] of Object.entries(HYPER_FLAGS)) cmd.option(`--${flag} <value>`, spec.help, spec.parse);
  addLoadOptions(cmd);
  cmd.action(async (flags: TrainFlags) => {
    await runTrain(flags);
  });
}

function hyperParametersFrom(flags: TrainFlags, type: ModelType): HyperParameters {
  const factory = getFactory(type);
  const out: Record<string, number> = {};
  for (const [flag, spec] of Object.entries(HYPER_FLAGS)) {
    const value = flags[flag];
    if (value === undefined) continue;
    if (!(spec.name in factory.defaults)) {
      throw new RecError('RTREC_ERR_CONFIG_INVALID', `--${flag} does not apply to model '${type}' (its hyper-parameters: ${Object.keys(factory.defaults).join(', ')})`);
    }
    out[spec.name] = value as number;
  }
  return out;
}

/**
 * Loads every --data source into one data set: later sources share the first one's id maps and
 * their rows follow; item metadata comes from the first source that has some.
 */
async function loadCombined(paths: readonly string[], options: LoadOptions): Promise<Dataset> {
  const first = await loadDataset(paths[0], options);
  if (paths.length === 1) return first;
  const parts = [first.interactions];
  let itemMetadata = first.itemMetadata;
  for (const path of paths.slice(1)) {
    const next = await loadDataset(path, { ...options, users: first.interactions.users, items: first.interactions.items });
    if ((next.interactions.rating === null) !== (first.interactions.rating === null)) {
      throw new RecError('RTREC_ERR_DATA_BAD_ROW', `${path} ${next.interactions.rating ? 'has' : 'has no'} rating column but ${paths[0]} ${first.interactions.rating ? 'has' : 'has no'}: combined --data sources must agree`);
    }
    parts.push(next.interactions);
    itemMetadata ??= next.itemMetadata;
  }
  return { interactions: concatInteractions(parts), itemMetadata, source: paths.join(' + ') };
}

/** The model type to train: as given, or for 'auto' the best one for this catalogue and engine. */
function resolveModelType(flags: TrainFlags, numItems: number): ModelType {
  if (flags.model !== 'auto') return flags.model;
  if (flags.engine === 'spark') return 'als';
  return numItems <= AUTO_EASE_MAX_ITEMS ? 'ease' : 'ials';
}

async function runTrain(flags: TrainFlags): Promise<void> {
  const log = (line: string) => { if (!flags.json) process.stderr.write(`${line}\n`); };
  if (flags.engine !== 'spark' && (flags.sparkMaster !== undefined || flags.sparkConf.length > 0)) {
    throw new RecError('RTREC_ERR_CONFIG_INVALID', '--spark-master and --spark-conf apply only with --engine spark');
  }
  if (flags.model !== 'auto') hyperParametersFrom(flags, flags.model); // fail on a wrong flag before loading data
  await checkModelFolderReplaceable(flags.out, `--out ${flags.out}`);
  if (flags.test !== undefined && !existsSync(flags.test)) throw new RecError('RTREC_ERR_DATA_NOT_FOUND', `--test ${flags.test}: no such file or folder`);
  const dataset = await loadCombined(flags.data, loadOptionsFrom(flags));
  const events = await trainingWatermark(flags.data);
  for (const note of events.notes) log(note);
  const x = dataset.interactions;
  log(`loaded ${x.length} interactions, ${x.users.size} users, ${x.items.size} items from ${dataset.source}`);
  const type = resolveModelType(flags, x.items.size);
  if (flags.model === 'auto') log(`model: ${type} (--model auto; pass --model to choose)`);
  const hyperParameters = hyperParametersFrom(flags, type);

  const showBars = !flags.json && progressEnabledByDefault();
  let model;
  if (flags.engine === 'spark') {
    ({ model } = await trainWithSpark({
      type,
      hyperParameters,
      dataset,
      ...(flags.sparkMaster === undefined ? {} : { master: flags.sparkMaster }),
      conf: flags.sparkConf,
      liveProgress: showBars,
      ...(flags.json ? { log: () => undefined } : {}),
    }));
  } else {
    const bar = iterationProgress(`train ${type}`, showBars);
    model = await trainModel(dataset, {
      type,
      hyperParameters,
      ...(flags.threads === undefined ? {} : { threads: flags.threads }),
      onIteration: bar.onIteration,
    });
    bar.stop();
  }

  if (events.watermark) model.info = { ...model.info, training: { ...model.info.training, eventsWatermark: events.watermark } };

  let metrics: Record<string, number> | undefined;
  if (flags.test) {
    // Clones: test-only ids get indices past the model's without changing the model's own maps.
    const test = await loadDataset(flags.test, { ...loadOptionsFrom(flags), users: x.users.clone(), items: x.items.clone() });
    metrics = evaluateModel(model, test.interactions, { k: flags.k, showProgress: !flags.json });
    model.info = { ...model.info, metrics };
  }
  await saveModel(flags.out, model);

  const info = model.info;
  const result = {
    model: info.type,
    out: flags.out,
    hyperParameters: info.hyperParameters,
    users: info.numUsers,
    items: info.numItems,
    interactions: info.numInteractions,
    seconds: info.training.seconds,
    eventsWatermark: info.training.eventsWatermark ?? null,
    ...(metrics ? { metrics } : {}),
  };
  emit(Boolean(flags.json), result, () => {
    const lines = [
      `trained ${info.type} in ${info.training.seconds.toFixed(2)} s → ${flags.out}`,
      formatTable(['hyper-parameter', 'value'], Object.entries(info.hyperParameters).map(([k, v]) => [k, typeof v === 'number' ? v : String(v)])),
    ];
    if (metrics) lines.push('', metricsTable(metrics, flags.k));
    return lines.join('\n');
  });
}
