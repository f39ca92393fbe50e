/**
 * @module The list of CLI commands, in the order `rtrec --help` shows them. Each module exports a
 * function that adds its command to the program.
 */
import type { Command } from 'commander';
import { registerDataCommand } from './data.js';
import { registerEvaluateCommand } from './evaluate.js';
import { registerEventsCommand } from './events.js';
import { registerImportModelCommand } from './import-model.js';
import { registerPredictCommand } from './predict.js';
import { registerPublishCommand } from './publish.js';
import { registerPublishSparkCommand } from './publish-spark.js';
import { registerQuickstartCommand } from './quickstart.js';
import { registerRecommendCommand } from './recommend.js';
import { registerReportCommand } from './report.js';
import { registerServeCommand } from './serve.js';
import { registerSplitCommand } from './split.js';
import { registerTrainCommand } from './train.js';
import { registerVersionsCommand } from './versions.js';

export type RegisterCommand = (program: Command) => void;

export const COMMANDS: readonly RegisterCommand[] = [
  registerQuickstartCommand,
  registerDataCommand,
  registerSplitCommand,
  registerTrainCommand,
  registerEvaluateCommand,
  registerReportCommand,
  registerRecommendCommand,
  registerPredictCommand,
  registerImportModelCommand,
  registerPublishCommand,
  registerPublishSparkCommand,
  registerVersionsCommand,
  registerServeCommand,
  registerEventsCommand,
];
