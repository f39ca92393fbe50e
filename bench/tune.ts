/**
 * @module `npm run bench:tune`: the documented hyper-parameter search behind every model's defaults.
 * Train is the benchmark split's train part; three validation splits are carved from it (stratified
 * by item, 75/25, seeds 7, 8, 9) and every candidate is scored by its mean over the three — the test
 * split is never looked at. One fold alone picked noisy optima (differences of 0.005 nDCG between
 * neighbours), hence three. Ranking models are chosen by nDCG@10, explicit ALS by RMSE. Results go to
 * BENCHMARKS.md (section tune).
 */
import { carveValidation } from '../src/data/split.js';
import { evaluateModel } from '../src/jobs/evaluate-model.js';
import { trainModel } from '../src/jobs/train.js';
import type { HyperParameters, ModelType } from '../src/models/recommender.js';
import { formatTable } from '../src/cli/kit.js';
import { BENCHMARK_SPLIT, loadMovielens100k, trainTest } from './movielens.js';
import { writeBenchmarkSection } from './report.js';
import { reindex } from '../src/data/interactions.js';

interface Grid {
  readonly type: ModelType;
  readonly objective: 'ndcg' | 'rmse';
  readonly candidates: HyperParameters[];
}

function product(axes: Record<string, readonly (number | boolean)[]>): HyperParameters[] {
  let out: Record<string, number | boolean>[] = [{}];
  for (const [name, values] of Object.entries(axes)) out = out.flatMap((c) => values.map((v) => ({ ...c, [name]: v })));
  return out;
}

const FOLD_SEEDS = [7, 8, 9] as const;

const GRIDS: readonly Grid[] = [
  { type: 'ease', objective: 'ndcg', candidates: product({ lambda: [100, 200, 300, 400, 500, 600, 700, 850, 1000, 1500] }) },
  { type: 'ials', objective: 'ndcg', candidates: product({ rank: [16, 32, 64], reg: [10, 20, 50, 100], alpha: [0.3, 1, 3, 10], iterations: [15] }) },
  { type: 'als', objective: 'rmse', candidates: product({ rank: [10, 20, 50], reg: [0.05, 0.1, 0.12, 0.15, 0.18, 0.2], iterations: [15] }) },
];

/** Candidates this close to the best objective value count as tied. */
const TIE_TOLERANCE = 0.001;

/**
 * The best candidate by the objective; among those within TIE_TOLERANCE of it, the one with the
 * smallest rank, since factors cost memory and scoring time on every request.
 */
function pickBest(scored: readonly { hp: HyperParameters; value: number }[], objective: 'ndcg' | 'rmse') {
  const sign = objective === 'ndcg' ? 1 : -1;
  const top = Math.max(...scored.map((c) => sign * c.value));
  const tied = scored.filter((c) => sign * c.value >= top - TIE_TOLERANCE);
  const rankOf = (c: { hp: HyperParameters }) => Number(c.hp.rank ?? 0);
  return tied.reduce((a, b) => (rankOf(b) < rankOf(a) || (rankOf(b) === rankOf(a) && sign * b.value > sign * a.value) ? b : a));
}

async function main(): Promise<void> {
  const only = process.argv[2];
  const dataset = await loadMovielens100k();
  const { train } = trainTest(dataset, dataset.interactions, BENCHMARK_SPLIT);
  const folds = FOLD_SEEDS.map((seed) => {
    const carved = carveValidation(train.interactions, { ...BENCHMARK_SPLIT, seed });
    const subTrain = reindex(carved.train);
    return { subTrain, validation: reindex(carved.validation, subTrain.users.clone(), subTrain.items.clone()) };
  });

  const sections: string[] = [
    `Search on ${folds.length} validation splits carved from the benchmark train split (stratified by item, 75/25, seeds ${FOLD_SEEDS.join(', ')}); the test split is not used.`,
    `Each fold: sub-train ${folds[0].subTrain.length} rows, validation ${folds[0].validation.length} rows. Values are means over the folds. Ranking models are chosen by nDCG@10 (seen items excluded), explicit ALS by RMSE.`,
  ];
  for (const grid of GRIDS) {
    if (only && grid.type !== only) continue;
    const rows: (string | number)[][] = [];
    const scored: { hp: HyperParameters; value: number }[] = [];
    for (const hp of grid.candidates) {
      const m: Record<string, number> = {};
      let seconds = 0;
      for (const { subTrain, validation } of folds) {
        const model = await trainModel({ ...train, interactions: subTrain }, { type: grid.type, hyperParameters: hp });
        seconds += model.info.training.seconds / folds.length;
        const fold = evaluateModel(model, validation, { k: 10, showProgress: false });
        for (const key of ['ndcg', 'precision', 'recall', 'map', 'rmse']) m[key] = (m[key] ?? 0) + (fold[key] ?? NaN) / folds.length;
      }
      const value = grid.objective === 'ndcg' ? m.ndcg : m.rmse;
      scored.push({ hp, value });
      rows.push([JSON.stringify(hp), m.ndcg, m.precision, m.recall, m.map, ...(grid.objective === 'rmse' ? [m.rmse] : []), seconds]);
      process.stderr.write(`${grid.type} ${JSON.stringify(hp)} ${grid.objective}=${value.toFixed(4)}\n`);
    }
    const best = pickBest(scored, grid.objective);
    const headers = ['hyper-parameters', 'nDCG@10', 'P@10', 'R@10', 'MAP', ...(grid.objective === 'rmse' ? ['RMSE'] : []), 'fit s'];
    sections.push(`### ${grid.type} (objective ${grid.objective})`, '', '```', formatTable(headers, rows), '```', '', `Chosen: \`${JSON.stringify(best.hp)}\` (${grid.objective} ${best.value.toFixed(4)}; ties within ${TIE_TOLERANCE} go to the smallest rank)`, '');
  }
  const body = sections.join('\n');
  process.stdout.write(`${body}\n`);
  if (!only) await writeBenchmarkSection('tune', 'Hyper-parameter search (MovieLens 100K validation split)', body);
}

await main();
