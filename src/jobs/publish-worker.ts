/**
 * @module Worker-thread entry of the publish scorer (publish-scoring.ts): restores the model from
 * the shared state in workerData through its factory and scores ranges of users or items.
 */
import { IdMap } from '../core/ids.js';
import { serveWorkerTasks } from '../math/worker-pool.js';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION } from '../models/manifest.js';
import { getFactory } from '../models/registry.js';
import { TrainedModel } from '../models/trained-model.js';
import { scoreTask, type ScoredLists, type ScoreTask, type SharedModel } from './publish-scoring.js';

serveWorkerTasks<ScoreTask, ScoredLists>((data) => {
  const m = data.model as SharedModel;
  const recommender = getFactory(m.type).restore(m.hyperParameters, m.numUsers, m.numItems, { arrays: m.arrays, values: m.values });
  // Only scoring is needed here: ids, metadata and the descriptive info stay on the main thread.
  const model = new TrainedModel({
    info: {
      format: MODEL_FORMAT,
      formatVersion: MODEL_FORMAT_VERSION,
      type: recommender.type,
      hyperParameters: m.hyperParameters,
      createdAt: '',
      rtrecVersion: '',
      numUsers: m.numUsers,
      numItems: m.numItems,
      numInteractions: m.seen.indptr[m.numUsers],
      training: { source: '', dataFingerprint: '', explicitFeedback: false, seconds: 0, iterations: 0, engine: '' },
    },
    recommender,
    users: new IdMap(),
    items: new IdMap(),
    seen: m.seen,
    itemMetadata: null,
  });
  const scratch = new Float32Array(m.numItems);
  return (task) => scoreTask(model, task, scratch);
});
