/**
 * @module Finding and launching Spark for the Spark training engine: the job script, a
 * `spark-submit` (the one PySpark installs into jobs/spark/.venv by scripts/setup-spark.sh, else
 * `$SPARK_HOME/bin/spark-submit`), a Java 17+ check, and the command line and environment to run
 * the job with. Nothing here starts Spark; spark-train.ts does.
 */
import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RecError, type ErrorCode } from '../core/errors.js';

/** Codes for "Spark is not set up" and "the Spark job failed". */
export const SPARK_UNAVAILABLE: ErrorCode = 'RTREC_ERR_MODEL_ENGINE_UNAVAILABLE';
export const SPARK_JOB_FAILED: ErrorCode = 'RTREC_ERR_MODEL_ENGINE_FAILED';

/**
 * jobs/spark/ of this checkout or package: the nearest ancestor of this module holding
 * jobs/spark/train_als.py (src/jobs, dist/jobs and dist-bench/src/jobs sit at different depths).
 */
export const SPARK_JOB_DIR = findJobDir(dirname(fileURLToPath(import.meta.url)));
export const SPARK_JOB_SCRIPT = join(SPARK_JOB_DIR, 'train_als.py');
export const DEFAULT_SPARK_VENV = join(SPARK_JOB_DIR, '.venv');
export const DEFAULT_SPARK_MASTER = 'local[*]';
const SETUP_HINT = 'run scripts/setup-spark.sh (needs Java 17+ and Python 3.10+)';

function findJobDir(from: string): string {
  for (let dir = from, up = 0; up < 6; up++, dir = dirname(dir)) {
    const candidate = join(dir, 'jobs', 'spark');
    if (existsSync(join(candidate, 'train_als.py'))) return candidate;
  }
  return join(from, '..', '..', 'jobs', 'spark');
}

export interface SparkLauncher {
  /** spark-submit executable to run. */
  readonly sparkSubmit: string;
  /** Environment to run it with (Python of the venv, quiet logging). */
  readonly env: NodeJS.ProcessEnv;
  /** Where Spark comes from, for messages: 'venv <path>' or 'SPARK_HOME <path>'. */
  readonly source: string;
  /** Major Java version found. */
  readonly javaVersion: number;
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds spark-submit and Java and prepares the environment.
 * @param venvDir the job's virtual environment (default jobs/spark/.venv).
 * @param env the environment to start from (default process.env); not modified.
 * @throws SPARK_UNAVAILABLE when there is neither a venv nor SPARK_HOME, or Java is missing or older than 17.
 */
export async function locateSpark(venvDir: string = DEFAULT_SPARK_VENV, env: NodeJS.ProcessEnv = process.env): Promise<SparkLauncher> {
  const out: NodeJS.ProcessEnv = { ...env };
  let sparkSubmit: string;
  let source: string;
  const venvSubmit = join(venvDir, 'bin', 'spark-submit');
  const venvPython = join(venvDir, 'bin', 'python');
  if (await isExecutable(venvSubmit)) {
    sparkSubmit = venvSubmit;
    source = `venv ${venvDir}`;
    // The venv's spark-submit finds its Spark through this Python; a SPARK_HOME from elsewhere would
    // pair the venv's PySpark with another Spark version.
    delete out.SPARK_HOME;
    out.PYSPARK_PYTHON = venvPython;
    out.PYSPARK_DRIVER_PYTHON = venvPython;
    // Quiet logging (warnings and errors) unless the user has a Spark configuration folder of their
    // own. Only for the bundled PySpark: a $SPARK_HOME install has its own conf/ (the cluster's
    // spark-defaults.conf and spark-env.sh), which this would hide.
    if (!out.SPARK_CONF_DIR) out.SPARK_CONF_DIR = join(SPARK_JOB_DIR, 'conf');
  } else if (env.SPARK_HOME && (await isExecutable(join(env.SPARK_HOME, 'bin', 'spark-submit')))) {
    sparkSubmit = join(env.SPARK_HOME, 'bin', 'spark-submit');
    source = `SPARK_HOME ${env.SPARK_HOME}`;
  } else {
    throw new RecError(
      SPARK_UNAVAILABLE,
      `the Spark engine is not set up: ${venvSubmit} is missing${env.SPARK_HOME ? ` and ${env.SPARK_HOME}/bin/spark-submit is not executable` : ' and SPARK_HOME is not set'}; ${SETUP_HINT}`,
    );
  }
  const javaVersion = await checkJava(out);
  return { sparkSubmit, env: out, source, javaVersion };
}

/**
 * Major version of the Java that spark-submit will use (`$JAVA_HOME/bin/java`, else `java` on PATH).
 * @throws SPARK_UNAVAILABLE when it cannot be run or is older than 17.
 */
export async function checkJava(env: NodeJS.ProcessEnv): Promise<number> {
  const java = env.JAVA_HOME ? join(env.JAVA_HOME, 'bin', 'java') : 'java';
  let text: string;
  try {
    text = await new Promise<string>((resolve, reject) => {
      execFile(java, ['-version'], { env, timeout: 30_000 }, (err, stdout, stderr) => (err ? reject(new Error(err.message, { cause: err })) : resolve(`${stderr}${stdout}`)));
    });
  } catch (err) {
    throw new RecError(SPARK_UNAVAILABLE, `Spark needs Java 17 or later, but ${java} cannot be run (${(err as Error).message.split('\n')[0]}); install a JDK 17+ or set JAVA_HOME, then ${SETUP_HINT}`, {
      cause: err,
    });
  }
  const version = parseJavaVersion(text);
  if (version === null) throw new RecError(SPARK_UNAVAILABLE, `cannot tell the version of ${java} from: ${text.split('\n')[0]}`);
  if (version < 17) throw new RecError(SPARK_UNAVAILABLE, `Spark 4 needs Java 17 or later; ${java} is Java ${version}. Install a JDK 17+ or set JAVA_HOME`);
  return version;
}

/** Major version from `java -version` output: `version "17.0.15"` → 17, `version "1.8.0_392"` → 8. */
export function parseJavaVersion(text: string): number | null {
  const m = /version "(\d+)(?:\.(\d+))?/.exec(text);
  if (!m) return null;
  const major = Number(m[1]);
  return major === 1 && m[2] !== undefined ? Number(m[2]) : major;
}

/**
 * `--spark-conf k=v` values as pairs.
 * @throws RTREC_ERR_CONFIG_INVALID for an entry without `=` or with an empty key.
 */
export function parseSparkConf(entries: readonly string[]): [string, string][] {
  return entries.map((entry) => {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new RecError('RTREC_ERR_CONFIG_INVALID', `--spark-conf must be key=value (e.g. spark.driver.memory=4g), got ${JSON.stringify(entry)}`);
    return [entry.slice(0, eq).trim(), entry.slice(eq + 1)];
  });
}

/**
 * Arguments of spark-submit: master, the user's configuration, then defaults the user did not set
 * (no console progress bar, as the job reports progress itself; no web UI in local mode, where its
 * port would clash with a second run), then the script and its arguments.
 */
export function sparkSubmitArgs(master: string, conf: readonly [string, string][], jobArgs: readonly string[]): string[] {
  const given = new Set(conf.map(([key]) => key));
  const defaults: [string, string][] = [['spark.ui.showConsoleProgress', 'false']];
  if (master.startsWith('local')) defaults.push(['spark.ui.enabled', 'false']);
  const all = [...conf, ...defaults.filter(([key]) => !given.has(key))];
  return ['--master', master, '--name', 'rtrec-train', ...all.flatMap(([k, v]) => ['--conf', `${k}=${v}`]), SPARK_JOB_SCRIPT, ...jobArgs];
}
