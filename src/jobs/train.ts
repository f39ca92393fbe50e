/**
 * @module The training job: data set in, TrainedModel out (fit with progress, manifest filled in).
 * Used by `rtrec train`, the quickstart and the quality benchmark.
 */
import type { Dataset } from '../data/interactions.js';
import { VERSION } from '../version.js';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION, type ModelInfo } from '../models/manifest.js';
import type { FitOptions, HyperParameters, ModelType } from '../models/recommender.js';
import { getFactory } from '../models/registry.js';
import { TrainedModel } from '../models/trained-model.js';
import { buildTrainingMatrix, fingerprintTrainingData } from './training-matrix.js';

export interface TrainOptions extends FitOptions {
  readonly type: ModelType;
  /** Overrides of the model's tuned defaults; unknown names are rejected by the caller. */
  readonly hyperParameters?: HyperParameters;
}

export async function trainModel(dataset: Dataset, options: TrainOptions): Promise<TrainedModel> {
  const factory = getFactory(options.type);
  const hyperParameters = { ...factory.defaults, ...options.hyperParameters };
  const { interactions } = dataset;
  const matrix = buildTrainingMatrix(interactions, factory.explicit, options.type);
  const recommender = factory.create(hyperParameters);
  const report = await recommender.fit(matrix, options);
  const userIds = interactions.users.toArray();
  const itemIds = interactions.items.toArray();
  const info: ModelInfo = {
    format: MODEL_FORMAT,
    formatVersion: MODEL_FORMAT_VERSION,
    type: options.type,
    hyperParameters,
    createdAt: new Date().toISOString(),
    rtrecVersion: VERSION,
    numUsers: interactions.users.size,
    numItems: interactions.items.size,
    numInteractions: matrix.indptr[matrix.rows],
    training: {
      source: dataset.source,
      dataFingerprint: fingerprintTrainingData(matrix, userIds, itemIds),
      explicitFeedback: interactions.rating !== null,
      seconds: report.seconds,
      iterations: report.iterations,
      ...(report.finalLoss === undefined ? {} : { finalLoss: report.finalLoss }),
      engine: 'embedded',
    },
  };
  return new TrainedModel({
    info,
    recommender,
    users: interactions.users,
    items: interactions.items,
    seen: matrix,
    itemMetadata: dataset.itemMetadata,
  });
}
