/**
 * @module The one table layout for metrics that every command prints (evaluate, report, train
 * --test, quickstart): fixed order, k filled into the labels, metrics that do not apply left out.
 */
import { formatTable } from './kit.js';

const LABELS: readonly (readonly [string, string])[] = [
  ['precision', 'precision@k'],
  ['recall', 'recall@k'],
  ['ndcg', 'nDCG@k'],
  ['map', 'MAP'],
  ['mapAtK', 'MAP@k'],
  ['rmse', 'RMSE'],
  ['mae', 'MAE'],
  ['r2', 'R²'],
  ['explainedVariance', 'explained variance'],
  ['catalogCoverage', 'catalog coverage'],
  ['distributionalCoverage', 'distributional coverage (bits)'],
  ['novelty', 'novelty (bits)'],
  ['diversity', 'diversity'],
  ['users', 'users evaluated'],
];

/** Metric values by their JSON key; null, undefined and NaN count as "does not apply". */
export function metricsTable(metrics: Readonly<Record<string, unknown>>, k: number): string {
  const rows: [string, number][] = [];
  for (const [key, label] of LABELS) {
    const value = metrics[key];
    if (typeof value === 'number' && !Number.isNaN(value)) rows.push([label.replace('@k', `@${k}`), value]);
  }
  return formatTable(['metric', 'value'], rows);
}
