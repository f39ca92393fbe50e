/**
 * @module `rtrec evaluate`: scores a predictions file against a truth file with Microsoft
 * Recommenders' metric definitions and prints a table or, with --json, one object whose keys are the
 * metric names (null for a metric the predictions cannot give).
 */
import type { Command } from 'commander';
import { metricsTable } from '../metrics-table.js';
import { evaluateFiles, type EvaluationReport } from '../../eval/evaluate-files.js';
import { DEFAULT_K } from '../../eval/metrics.js';
import { emit, parseIntOption } from '../kit.js';

interface EvaluateOptions {
  truth: string;
  pred: string;
  k: number;
  train?: string;
  json?: boolean;
}

export function registerEvaluateCommand(program: Command): void {
  program
    .command('evaluate')
    .description(
      'Compare predictions with held-out truth. A predictions file with a score (or rank) column gives ranking metrics ' +
        '(precision, recall, nDCG, MAP at k); one with a prediction column gives rating metrics (RMSE, MAE, R², explained variance). ' +
        'With --train, also catalog coverage, distributional coverage, novelty and diversity of the top-k lists.',
    )
    .requiredOption('--truth <file>', 'held-out interactions: CSV/TSV/JSONL with userId,itemId[,rating] columns, or a MovieLens rating file')
    .requiredOption('--pred <file>', 'predictions CSV with header userId,itemId,score[,rank] or userId,itemId,prediction')
    .option('--k <n>', 'cut-off for ranking metrics', parseIntOption('--k', 1, 1000), DEFAULT_K)
    .option('--train <file>', 'training interactions (same formats as --truth) for the beyond-accuracy metrics')
    .option('--json', 'print the metrics as one JSON object')
    .action(async (opts: EvaluateOptions) => {
      const report = await evaluateFiles({
        truth: opts.truth,
        pred: opts.pred,
        k: opts.k,
        ...(opts.train === undefined ? {} : { train: opts.train }),
        ...(opts.json ? { progress: false } : {}),
      });
      emit(Boolean(opts.json), report, () => formatReport(report));
    });
}

/** The report as a two-column table, metrics that do not apply left out. */
export function formatReport(report: EvaluationReport): string {
  return `${report.users} users evaluated, k = ${report.k}\n\n${metricsTable({ ...report, users: undefined }, report.k)}`;
}
