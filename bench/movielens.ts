/**
 * @module MovieLens 100K for benchmarks: read from $RTREC_DATA_DIR/ml-100k or ../shared/data/ml-100k
 * (never copied into the repository), split as the Microsoft Recommenders benchmark does.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { reindex, type Dataset, type Interactions } from '../src/data/interactions.js';
import { loadDataset } from '../src/data/load-dataset.js';
import { splitInteractions, type SplitOptions } from '../src/data/split.js';

/** The benchmark protocol's split: stratified by item, 75/25, seed 42. */
export const BENCHMARK_SPLIT: SplitOptions = { strategy: 'stratified', by: 'item', ratio: 0.75, seed: 42 };

export function movielens100kDir(): string {
  const root = process.env.RTREC_DATA_DIR ?? fileURLToPath(new URL('../../../shared/data', import.meta.url));
  const dir = join(root, 'ml-100k');
  if (!existsSync(join(dir, 'u.data'))) throw new Error(`MovieLens 100K not found at ${dir}; set RTREC_DATA_DIR to the folder holding ml-100k/`);
  return dir;
}

export interface TrainTest {
  readonly dataset: Dataset;
  /** Train rows, indexed by their own (compact) id maps. */
  readonly train: Dataset;
  /** Test rows, indexed by clones of train's maps (test-only ids come after). */
  readonly test: Interactions;
}

/** Splits `x` and indexes train compactly and test by train's maps, as a model trained on train sees them. */
export function trainTest(dataset: Dataset, x: Interactions, options: SplitOptions): TrainTest {
  const split = splitInteractions(x, options);
  const train = reindex(split.train);
  const test = reindex(split.test, train.users.clone(), train.items.clone());
  return { dataset, train: { ...dataset, interactions: train }, test };
}

export async function loadMovielens100k(): Promise<Dataset> {
  return loadDataset(movielens100kDir());
}
