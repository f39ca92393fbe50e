/**
 * @module `rtrec report`: evaluates a saved model on a test file in one step — top-k with seen items
 * removed for ranking metrics, rating metrics when the model predicts ratings, and beyond-accuracy
 * metrics against its training data — and can store the result in the model's manifest.
 */
import type { Command } from 'commander';
import { loadDataset } from '../../data/load-dataset.js';
import { evaluateModel } from '../../jobs/evaluate-model.js';
import { metricsTable } from '../metrics-table.js';
import { loadModel, saveModel } from '../../models/model-io.js';
import { progressEnabledByDefault } from '../../core/progress.js';
import { emit, parseIntOption } from '../kit.js';
import { addLoadOptions, loadOptionsFrom } from './data.js';

interface ReportFlags {
  model: string;
  test: string;
  k: number;
  save?: boolean;
  json?: boolean;
  [flag: string]: unknown;
}

export function registerReportCommand(program: Command): void {
  const cmd = program
    .command('report')
    .description('Evaluate a saved model on a test file: ranking, rating (when it predicts ratings) and beyond-accuracy metrics')
    .requiredOption('--model <dir>', 'model folder written by rtrec train')
    .requiredOption('--test <file>', 'held-out interactions (e.g. split/test.csv)')
    .option('--k <n>', 'cut-off for ranking metrics', parseIntOption('--k', 1, 1000), 10)
    .option('--save', 'store the metrics in the model manifest')
    .option('--json', 'print the metrics as JSON');
  addLoadOptions(cmd);
  cmd.action(async (flags: ReportFlags) => {
    const model = await loadModel(flags.model);
    // Clones: test-only ids get indices past the model's without changing the model's own maps.
    const test = await loadDataset(flags.test, { ...loadOptionsFrom(flags), users: model.users.clone(), items: model.items.clone() });
    const metrics = evaluateModel(model, test.interactions, { k: flags.k, showProgress: !flags.json && progressEnabledByDefault() });
    if (flags.save) {
      model.info = { ...model.info, metrics };
      await saveModel(flags.model, model);
    }
    emit(Boolean(flags.json), metrics, () => `${model.info.type} model ${flags.model} on ${flags.test}\n\n${metricsTable(metrics, flags.k)}`);
  });
}
