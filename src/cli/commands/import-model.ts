/**
 * @module `rtrec import-model`: converts the export folder of the Spark job (jobs/spark/train_als.py)
 * into an rtrec model folder that evaluate, recommend, publish and the server load like any other.
 */
import type { Command } from 'commander';
import { loadDataset } from '../../data/load-dataset.js';
import { importSparkModel } from '../../jobs/import-model.js';
import { checkModelFolderReplaceable, saveModel } from '../../models/model-io.js';
import { emit, formatTable } from '../kit.js';
import { addLoadOptions, loadOptionsFrom } from './data.js';

interface ImportModelFlags {
  from: string;
  data: string;
  out: string;
  json?: boolean;
  [flag: string]: unknown;
}

export function registerImportModelCommand(program: Command): void {
  const cmd = program
    .command('import-model')
    .description('Turn a Spark training export (jobs/spark/train_als.py --out) into an rtrec model folder')
    .requiredOption('--from <dir>', 'export folder written by the Spark job (export.json, user_factors.csv, item_factors.csv)')
    .requiredOption('--data <path>', 'the training data the job read (for the id order and the seen items), as for rtrec train')
    .requiredOption('--out <dir>', 'model folder to write (replaced atomically)')
    .option('--json', 'print the result as JSON');
  addLoadOptions(cmd);
  cmd.action(async (flags: ImportModelFlags) => {
    const log = (line: string) => {
      if (!flags.json) process.stderr.write(`${line}\n`);
    };
    await checkModelFolderReplaceable(flags.out, `--out ${flags.out}`);
    const dataset = await loadDataset(flags.data, loadOptionsFrom(flags));
    const imported = await importSparkModel(flags.from, dataset, { onWarning: (message) => log(`warning: ${message}`) });
    await saveModel(flags.out, imported.model);
    const info = imported.model.info;
    const spark = imported.sparkExport;
    const result = {
      model: info.type,
      out: flags.out,
      engine: info.training.engine,
      sparkVersion: spark.spark.version,
      hyperParameters: info.hyperParameters,
      users: info.numUsers,
      items: info.numItems,
      interactions: info.numInteractions,
      missingUsers: imported.missingUsers,
      missingItems: imported.missingItems,
      unknownUsers: imported.unknownUsers,
      unknownItems: imported.unknownItems,
      warnings: imported.warnings,
    };
    emit(Boolean(flags.json), result, () =>
      [
        `imported Spark ${spark.spark.version} ${info.type} model (${info.numUsers} users, ${info.numItems} items, rank ${spark.hyperParameters.rank}) → ${flags.out}`,
        formatTable(['hyper-parameter', 'value'], Object.entries(info.hyperParameters).map(([k, v]) => [k, typeof v === 'number' ? v : String(v)])),
      ].join('\n'),
    );
  });
}
