/**
 * @module Turns a Spark export (jobs/spark/train_als.py) into an rtrec TrainedModel, so everything
 * downstream (evaluate, recommend, publish, serve, fold-in) takes it as it takes an embedded model.
 * The id maps and the seen matrix come from the training data as rtrec loads it (same order and
 * duplicate rule as `rtrec train`); Spark's factors are placed by original id. Users or items of the
 * data without a Spark factor get zero vectors and a warning.
 */
import { RecError } from '../core/errors.js';
import type { Dataset } from '../data/interactions.js';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION, type ModelInfo } from '../models/manifest.js';
import type { HyperParameters, RecommenderFactory } from '../models/recommender.js';
import { getFactory } from '../models/registry.js';
import { TrainedModel } from '../models/trained-model.js';
import { VERSION } from '../version.js';
import { readFactorTable, readSparkExport, type FactorTableResult, type SparkExport } from './import-model-export.js';
import { buildTrainingMatrix, fingerprintTrainingData } from './training-matrix.js';
import { join } from 'node:path';

export interface ImportSparkModelOptions {
  /** Called with each warning as it is found (they are also returned). */
  readonly onWarning?: (message: string) => void;
  /** The model type the caller asked for; an export of the other type is RTREC_ERR_CONFIG_INVALID. */
  readonly expectType?: 'als' | 'ials';
}

export interface ImportedSparkModel {
  readonly model: TrainedModel;
  readonly sparkExport: SparkExport;
  /** Users / items of the data with no Spark factor (zero vectors). */
  readonly missingUsers: number;
  readonly missingItems: number;
  /** Factor rows whose id is not in the data (ignored). */
  readonly unknownUsers: number;
  readonly unknownItems: number;
  readonly warnings: readonly string[];
}

/**
 * Builds a TrainedModel from a Spark export folder and the training data it was trained on.
 * @param exportDir folder with export.json and the factor tables.
 * @param dataset the training interactions as rtrec loads them (same file the Spark job read).
 * @returns the model (training.engine 'spark') and what the import found.
 * @throws RTREC_ERR_MODEL_NOT_FOUND, RTREC_ERR_MODEL_CORRUPT for an unusable export;
 *   RTREC_ERR_MODEL_UNSUPPORTED for explicit ALS on data without ratings; RTREC_ERR_DATA_EMPTY.
 */
export async function importSparkModel(exportDir: string, dataset: Dataset, options: ImportSparkModelOptions = {}): Promise<ImportedSparkModel> {
  const sparkExport = await readSparkExport(exportDir);
  const warnings: string[] = [];
  const warn = (message: string) => {
    warnings.push(message);
    options.onWarning?.(message);
  };
  if (options.expectType !== undefined && options.expectType !== sparkExport.model) {
    throw new RecError('RTREC_ERR_CONFIG_INVALID', `${exportDir} holds a Spark '${sparkExport.model}' model, not '${options.expectType}'`);
  }
  const type = sparkExport.model;
  const factory = getFactory(type);
  const { interactions } = dataset;
  const matrix = buildTrainingMatrix(interactions, factory.explicit, type);
  const { users, items } = interactions;
  const rank = sparkExport.hyperParameters.rank;

  const userFactors = new Float32Array(users.size * rank);
  const itemFactors = new Float32Array(items.size * rank);
  const userTable = await readFactorTable(join(exportDir, sparkExport.files.userFactors), rank, users, userFactors);
  const itemTable = await readFactorTable(join(exportDir, sparkExport.files.itemFactors), rank, items, itemFactors);
  const missingUsers = reportTable('user', users.size, userTable, (i) => users.idOf(i), warn);
  const missingItems = reportTable('item', items.size, itemTable, (i) => items.idOf(i), warn);

  const nnz = matrix.indptr[matrix.rows];
  const c = sparkExport.counts;
  if (c.interactions !== nnz || c.users !== users.size || c.items !== items.size) {
    warn(
      `Spark trained on ${c.interactions} pairs of ${c.users} users and ${c.items} items; ${dataset.source} gives ${nnz} pairs of ${users.size} users and ${items.size} items: is it the same data?`,
    );
  }
  if (type === 'ials') warn(implicitRegNote(sparkExport));

  const hyperParameters = rtrecHyperParameters(factory, sparkExport, warn);
  const recommender = factory.restore(hyperParameters, users.size, items.size, { arrays: { userFactors, itemFactors }, values: {} });
  const info: ModelInfo = {
    format: MODEL_FORMAT,
    formatVersion: MODEL_FORMAT_VERSION,
    type,
    hyperParameters,
    createdAt: new Date().toISOString(),
    rtrecVersion: VERSION,
    numUsers: users.size,
    numItems: items.size,
    numInteractions: nnz,
    training: {
      source: dataset.source,
      dataFingerprint: fingerprintTrainingData(matrix, users.toArray(), items.toArray()),
      explicitFeedback: interactions.rating !== null,
      seconds: sparkExport.timings.fitSeconds ?? sparkExport.timings.totalSeconds ?? 0,
      iterations: sparkExport.hyperParameters.iterations,
      engine: 'spark',
    },
  };
  const model = new TrainedModel({ info, recommender, users, items, seen: matrix, itemMetadata: dataset.itemMetadata });
  return { model, sparkExport, missingUsers, missingItems, unknownUsers: userTable.unknownCount, unknownItems: itemTable.unknownCount, warnings };
}

/** Warns about ids without factors and factor rows without ids; returns how many ids lack a factor. */
function reportTable(what: 'user' | 'item', size: number, table: FactorTableResult, idOf: (idx: number) => string, warn: (m: string) => void): number {
  let missing = 0;
  const examples: string[] = [];
  for (let i = 0; i < size; i++) {
    if (table.found[i]) continue;
    missing++;
    if (examples.length < 5) examples.push(idOf(i));
  }
  if (missing > 0) {
    warn(`${missing} of ${size} ${what}s of the training data have no Spark factors (e.g. ${examples.map((id) => JSON.stringify(id)).join(', ')}): they get zero vectors`);
  }
  if (table.unknownCount > 0) {
    warn(`${table.unknownCount} ${what} factor rows have ids not in the training data (e.g. ${table.unknownExamples.map((id) => JSON.stringify(id)).join(', ')}): ignored`);
  }
  return missing;
}

/** What reg the imported ials model keeps, and why it is only an approximation of Spark's. */
function implicitRegNote(sparkExport: SparkExport): string {
  const reg = sparkExport.hyperParameters.reg;
  const what = sparkExport.regScale
    ? `the model keeps λ = ${reg}, Spark's regParam × √(mean positive interactions per user × per item)`
    : `this export predates the conversion, so the model keeps Spark's regParam ${reg} as λ`;
  return `Spark's implicit ALS scales reg by each row's number of interactions, rtrec's ials does not: ${what}, and fold-in (new users, real-time updates) uses it unscaled`;
}

/** Spark's hyper-parameters in the factory's names: the ones the model has, over its defaults. */
function rtrecHyperParameters(factory: RecommenderFactory, sparkExport: SparkExport, warn: (m: string) => void): HyperParameters {
  const given: Record<string, number | boolean> = { ...sparkExport.hyperParameters };
  const seed = sparkExport.hyperParameters.seed;
  if (!(Number.isSafeInteger(seed) && seed >= 0 && seed < 2 ** 32)) {
    warn(`Spark seed ${seed} is outside rtrec's 0..2^32-1; the model keeps rtrec's default seed`);
    delete given.seed;
  }
  const out: Record<string, number | boolean | string> = { ...factory.defaults };
  for (const [key, value] of Object.entries(given)) if (key in factory.defaults) out[key] = value;
  return out;
}
