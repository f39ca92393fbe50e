/**
 * @module Worker-thread entry of the online update's fold-in (fold-ranker.ts): restores the model's
 * item side from workerData through its factory and folds in and ranks packed requests.
 */
import { serveWorkerTasks } from '../math/worker-pool.js';
import { getFactory } from '../models/registry.js';
import { foldTaskHandler, type FoldModelData, type FoldResult, type FoldTask } from './fold-ranker.js';

serveWorkerTasks<FoldTask, FoldResult>((data) => {
  const m = data.fold as FoldModelData;
  return foldTaskHandler(getFactory(m.type).restore(m.hyperParameters, m.numUsers, m.numItems, m.state));
});
