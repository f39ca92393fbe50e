/**
 * @module `rtrec predict`: rating predictions for (user, item) pairs from a saved model, written as
 * CSV `userId,itemId,prediction`. Pairs with a user or item the model never saw are dropped and
 * counted, as Spark's coldStartStrategy='drop' does.
 */
import type { Command } from 'commander';
import { writeFileAtomic } from '../../core/atomic-fs.js';
import { loadModel } from '../../models/model-io.js';
import { loadDataset } from '../../data/load-dataset.js';
import { quoteCsvField as csvField } from '../../data/csv.js';
import { emit } from '../kit.js';
import { addLoadOptions, loadOptionsFrom } from './data.js';

interface PredictFlags {
  model: string;
  pairs: string;
  out: string;
  json?: boolean;
  [flag: string]: unknown;
}

export function registerPredictCommand(program: Command): void {
  const cmd = program
    .command('predict')
    .description('Predict ratings for the (user, item) pairs of a file; writes CSV userId,itemId,prediction')
    .requiredOption('--model <dir>', 'model folder written by rtrec train')
    .requiredOption('--pairs <file>', 'interactions file whose userId,itemId pairs to score (e.g. a test split)')
    .requiredOption('--out <file>', 'CSV file to write (replaced atomically)')
    .option('--json', 'print a JSON summary');
  addLoadOptions(cmd);
  cmd.action(async (flags: PredictFlags) => {
    const model = await loadModel(flags.model);
    const pairs = (await loadDataset(flags.pairs, loadOptionsFrom(flags))).interactions;
    const lines = ['userId,itemId,prediction'];
    let dropped = 0;
    for (let r = 0; r < pairs.length; r++) {
      const userId = pairs.users.idOf(pairs.user[r]);
      const itemId = pairs.items.idOf(pairs.item[r]);
      const prediction = model.predict(model.users.indexOf(userId), model.items.indexOf(itemId));
      if (Number.isNaN(prediction)) {
        dropped++;
        continue;
      }
      lines.push(`${csvField(userId)},${csvField(itemId)},${prediction}`);
    }
    await writeFileAtomic(flags.out, `${lines.join('\n')}\n`);
    const summary = { pairs: pairs.length, predicted: lines.length - 1, droppedColdStart: dropped, ratingScale: model.recommender.predictsRatings, out: flags.out };
    emit(Boolean(flags.json), summary, () =>
      `wrote ${summary.predicted} predictions to ${flags.out}` +
      (dropped > 0 ? `; dropped ${dropped} pairs whose user or item the model never saw` : '') +
      (model.recommender.predictsRatings ? '' : `\nnote: a '${model.info.type}' model predicts ranking scores, not ratings; rating metrics on them are not meaningful`),
    );
  });
}
