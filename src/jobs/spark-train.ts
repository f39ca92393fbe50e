/**
 * @module The Spark training engine: runs jobs/spark/train_als.py through spark-submit (local[*],
 * a standalone cluster, YARN or Kubernetes), relays its progress, and imports the export it writes,
 * so `rtrec train --engine spark` yields the same kind of model folder as the embedded trainer.
 * The data rtrec loaded is handed to Spark as canonical CSV, so both sides see the same rows; a
 * Parquet file or Hadoop URI can be given to Spark instead (`sparkInput`), e.g. for data that lives
 * on the cluster.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecError } from '../core/errors.js';
import type { IdMap } from '../core/ids.js';
import { progressEnabledByDefault } from '../core/progress.js';
import type { Dataset } from '../data/interactions.js';
import { writeInteractionsCsv } from '../data/write-interactions.js';
import type { HyperParameters, ModelType } from '../models/recommender.js';
import { getFactory } from '../models/registry.js';
import type { TrainedModel } from '../models/trained-model.js';
import type { SparkExport } from './import-model-export.js';
import { importSparkModel } from './import-model.js';
import { SparkOutputRelay, terminalStatus } from './spark-progress.js';
import { DEFAULT_SPARK_MASTER, DEFAULT_SPARK_VENV, locateSpark, parseSparkConf, SPARK_JOB_FAILED, sparkSubmitArgs } from './spark-submit.js';

export interface SparkTrainOptions {
  /** 'als' (explicit, Spark implicitPrefs=false) or 'ials' (implicit); other types have no Spark trainer. */
  readonly type: ModelType;
  /** Overrides of the model's defaults, in rtrec's names (rank, iterations, reg, alpha, nonnegative, seed). */
  readonly hyperParameters?: HyperParameters;
  /** The training data as rtrec loaded it: gives the id order and seen items, and (without sparkInput) what Spark trains on. */
  readonly dataset: Dataset;
  /** Path or URI (hdfs://, s3a://, …; CSV or Parquet) Spark reads instead; must hold the same interactions as `dataset`. */
  readonly sparkInput?: string;
  /** Spark master URL: local[*] (default), local[N], spark://host:port, yarn, k8s://… */
  readonly master?: string;
  /** Spark configuration entries `key=value` (e.g. spark.driver.memory=4g), passed as --conf. */
  readonly conf?: readonly string[];
  /** Spark ALS user and item blocks (default Spark's 10). */
  readonly blocks?: number;
  /** Keep the export in this local folder (the import reads it from here); default a temporary folder, removed. */
  readonly exportDir?: string;
  /** Also write Spark's recommendForAllUsers(k) into the export (recommendations.jsonl). */
  readonly recommend?: { readonly k: number; readonly excludeSeen?: boolean };
  /**
   * Also precompute on the cluster what `rtrec publish-spark` publishes (export folder precompute/):
   * top `k` per user without training items, `similarK` similar items per item (default 20, 0: none),
   * popularity. `margin`: extra items Spark ranks per user before removing training items (default 50).
   */
  readonly precompute?: { readonly k: number; readonly similarK?: number; readonly margin?: number };
  readonly signal?: AbortSignal;
  /** Receives progress and warning lines; default stderr. */
  readonly log?: (line: string) => void;
  /** Show stage progress as a line rewritten in place (default: stderr is a terminal and RTREC_NO_PROGRESS unset). */
  readonly liveProgress?: boolean;
  /** The job's virtual environment (default jobs/spark/.venv). */
  readonly venvDir?: string;
  /** Environment of spark-submit (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** Called with spark-submit's process id, which is also its process group id (benchmarks sample its memory). */
  readonly onSpawn?: (pid: number) => void;
}

export interface SparkTrainResult {
  /** The imported model (info.training.engine 'spark'), ready for saveModel. */
  readonly model: TrainedModel;
  readonly sparkExport: SparkExport;
  readonly warnings: readonly string[];
  /** Wall time of the whole run including Spark's start-up and the import, in seconds. */
  readonly wallSeconds: number;
}

/**
 * Trains on Spark and imports the result.
 * @throws RTREC_ERR_CONFIG_INVALID for another model type or a bad --spark-conf; SPARK_UNAVAILABLE
 *   (spark-submit.ts) when the venv/SPARK_HOME or Java 17+ is missing; RTREC_ERR_DATA_NOT_FOUND /
 *   RTREC_ERR_DATA_BAD_ROW when Spark cannot use its input; SPARK_JOB_FAILED with Spark's last
 *   error lines; RTREC_ERR_MODEL_FIT_ABORTED when `signal` aborts; the import's errors.
 */
export async function trainWithSpark(options: SparkTrainOptions): Promise<SparkTrainResult> {
  const started = performance.now();
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (options.type !== 'als' && options.type !== 'ials') {
    throw new RecError('RTREC_ERR_CONFIG_INVALID', `the Spark engine trains 'als' (explicit) or 'ials' (implicit), not '${options.type}'; use --engine embedded`);
  }
  const factory = getFactory(options.type);
  // Validates names and ranges up front (a typo must not cost a Spark start-up).
  const hp = factory.create({ ...options.hyperParameters }).hyperParameters;
  if (factory.explicit && !options.dataset.interactions.rating) {
    throw new RecError('RTREC_ERR_MODEL_UNSUPPORTED', `model 'als' learns from explicit ratings, but ${options.dataset.source} has no rating column; use --model ials`);
  }
  if (options.sparkInput === undefined) refuseLineBreakIds(options.dataset);
  const conf = parseSparkConf(options.conf ?? []);
  const master = options.master ?? DEFAULT_SPARK_MASTER;
  const launcher = await locateSpark(options.venvDir ?? DEFAULT_SPARK_VENV, options.env ?? process.env);
  options.signal?.throwIfAborted();

  const work = await mkdtemp(join(tmpdir(), 'rtrec-spark-'));
  try {
    let input = options.sparkInput;
    if (input === undefined) {
      input = join(work, 'interactions.csv');
      await writeInteractionsCsv(input, options.dataset.interactions);
    }
    const exportDir = options.exportDir ?? join(work, 'export');
    const jobArgs = [
      '--data', input,
      '--out', exportDir,
      '--rank', String(hp.rank),
      '--iterations', String(hp.iterations),
      // rtrec's ials λ is not scaled by counts; the job converts it to Spark's count-scaled regParam.
      ...(options.type === 'ials' ? ['--ials-reg', String(hp.reg)] : ['--reg', String(hp.reg)]),
      '--seed', String(hp.seed),
      '--progress', 'json',
      ...(options.type === 'ials' ? ['--implicit', '--alpha', String(hp.alpha)] : []),
      ...(hp.nonnegative === true ? ['--nonnegative'] : []),
      ...(options.blocks === undefined ? [] : ['--blocks', String(options.blocks)]),
      ...(options.recommend ? ['--recommend-k', String(options.recommend.k), ...(options.recommend.excludeSeen ? ['--recommend-exclude-seen'] : [])] : []),
      ...(options.precompute ? precomputeArgs(options.precompute) : []),
    ];
    log(`spark: ${master} via ${launcher.source} (Java ${launcher.javaVersion})`);
    const live = options.liveProgress ?? progressEnabledByDefault();
    await runSparkSubmit(launcher.sparkSubmit, sparkSubmitArgs(master, conf, jobArgs), launcher.env, input, {
      log,
      ...(live ? { status: terminalStatus() } : {}),
      signal: options.signal,
      logFile: join(work, 'spark.log'),
      ...(options.onSpawn ? { onSpawn: options.onSpawn } : {}),
    });
    const imported = await importSparkModel(exportDir, options.dataset, { expectType: options.type, onWarning: (m) => log(`warning: ${m}`) });
    return {
      model: imported.model,
      sparkExport: imported.sparkExport,
      warnings: imported.warnings,
      wallSeconds: (performance.now() - started) / 1000,
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * Refuses ids holding a line break before Spark starts. The hand-off CSV quotes them correctly, but
 * the job reads CSV line by line: Spark's multiLine mode would read each file in a single task,
 * giving up parallel reading for every input to serve ids that are almost always a data error.
 * Without this check the row split apart and the job failed naming a temporary file already deleted.
 * @throws RTREC_ERR_DATA_BAD_ROW naming the id, the data source and the row (in load order, from 1).
 */
export function refuseLineBreakIds(dataset: Dataset): void {
  const x = dataset.interactions;
  const badUsers = lineBreakIds(x.users), badItems = lineBreakIds(x.items);
  if (!badUsers && !badItems) return;
  for (let j = 0; j < x.length; j++) {
    const what = badUsers?.[x.user[j]] ? 'user' : badItems?.[x.item[j]] ? 'item' : null;
    if (what === null) continue;
    const id = what === 'user' ? x.users.idOf(x.user[j]) : x.items.idOf(x.item[j]);
    throw new RecError(
      'RTREC_ERR_DATA_BAD_ROW',
      `${dataset.source}: row ${j + 1}: ${what} id ${JSON.stringify(id)} holds a line break, which the Spark engine cannot read; change the id or use --engine embedded`,
      { details: { file: dataset.source, row: j + 1, [`${what}Id`]: id } },
    );
  }
}

/** Per index of `ids`: 1 when the id holds a line break; null when none does. */
function lineBreakIds(ids: IdMap): Uint8Array | null {
  let bad: Uint8Array | null = null;
  for (let idx = 0; idx < ids.size; idx++) {
    if (!/[\r\n]/.test(ids.idOf(idx))) continue;
    bad ??= new Uint8Array(ids.size);
    bad[idx] = 1;
  }
  return bad;
}

function precomputeArgs(p: NonNullable<SparkTrainOptions['precompute']>): string[] {
  return [
    '--precompute-k', String(p.k),
    ...(p.similarK === undefined ? [] : ['--similar-k', String(p.similarK)]),
    ...(p.margin === undefined ? [] : ['--precompute-margin', String(p.margin)]),
  ];
}

interface RunOptions {
  readonly log: (line: string) => void;
  readonly status?: (text: string) => void;
  readonly signal: AbortSignal | undefined;
  /** Everything Spark prints is written here; kept (moved out of the work folder) when the job fails. */
  readonly logFile: string;
  readonly onSpawn?: (pid: number) => void;
}

/** Runs spark-submit to completion, relaying its output; maps a failure to a RecError. */
async function runSparkSubmit(command: string, args: string[], env: NodeJS.ProcessEnv, input: string, options: RunOptions): Promise<void> {
  const relay = new SparkOutputRelay({ log: options.log, ...(options.status ? { status: options.status } : {}) });
  // Own process group, so an abort reaches the JVM and the Python driver it started.
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  if (child.pid !== undefined) options.onSpawn?.(child.pid);
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  const logStream = createWriteStream(options.logFile);
  const onOutput = (chunk: string) => {
    relay.write(chunk);
    logStream.write(chunk);
  };
  child.stdout.on('data', onOutput);
  child.stderr.on('data', onOutput);
  let aborted = false;
  let killLater: NodeJS.Timeout | undefined;
  const onAbort = () => {
    aborted = true;
    killGroup(child.pid, 'SIGTERM');
    killLater = setTimeout(() => killGroup(child.pid, 'SIGKILL'), 10_000).unref();
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let exit: { code: number | null; signal: NodeJS.Signals | null };
  try {
    exit = await new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => resolve({ code, signal }));
    });
  } catch (err) {
    throw new RecError(SPARK_JOB_FAILED, `cannot start ${command}: ${(err as Error).message}`, { cause: err });
  } finally {
    // Once the group has exited its id can be reused by an unrelated process group.
    clearTimeout(killLater);
    options.signal?.removeEventListener('abort', onAbort);
    relay.end();
    await new Promise<void>((resolve) => logStream.end(resolve));
  }
  if (aborted) throw new RecError('RTREC_ERR_MODEL_FIT_ABORTED', 'Spark training was cancelled');
  if (exit.code === 0) return;
  // Input errors are explained by the job's one-line message; anything else deserves the whole log.
  const kept = exit.code === 2 && relay.jobError !== undefined ? undefined : await keepLog(options.logFile);
  throw jobFailure(exit, relay, input, kept);
}

/** Moves a failed run's log out of the work folder (which is removed) into the temp folder. */
async function keepLog(logFile: string): Promise<string | undefined> {
  const kept = join(tmpdir(), `rtrec-spark-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}.log`);
  try {
    await rename(logFile, kept);
    return kept;
  } catch {
    return undefined;
  }
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/** The RecError for a failed run: the job's own message for input errors (exit 2), else Spark's last error lines. */
function jobFailure(exit: { code: number | null; signal: NodeJS.Signals | null }, relay: SparkOutputRelay, input: string, logFile: string | undefined): RecError {
  const message = relay.jobError;
  if (exit.code === 2 && message !== undefined) {
    if (/does not exist|not readable|cannot open/.test(message)) {
      return new RecError('RTREC_ERR_DATA_NOT_FOUND', `Spark job: ${message}`, { details: { file: input } });
    }
    if (message.startsWith('argument ')) return new RecError('RTREC_ERR_CONFIG_INVALID', `Spark job: ${message}`);
    if (/rating column/.test(message)) return new RecError('RTREC_ERR_MODEL_UNSUPPORTED', `Spark job: ${message}`);
    return new RecError('RTREC_ERR_DATA_BAD_ROW', `Spark job: ${message}`, { details: { file: input } });
  }
  const tail = relay.tail();
  const causes = relay.causes();
  const shown = (causes.length > 0 ? causes : tail.slice(-8)).map((line) => (line.length > 300 ? `${line.slice(0, 300)}…` : line)).join('\n  ');
  const how = exit.code === null ? `killed by ${exit.signal ?? 'a signal'}` : `exit code ${exit.code}`;
  return new RecError(SPARK_JOB_FAILED, `the Spark job failed (${how})${shown ? `:\n  ${shown}` : ''}${logFile ? `\nfull Spark output: ${logFile}` : ''}`, {
    details: { lastOutput: tail, ...(logFile ? { log: logFile } : {}) },
  });
}
