/**
 * @module Reads the export folder the Spark job (jobs/spark/train_als.py) writes: `export.json` (what
 * was trained, counts, Spark version, timings) and the factor tables `user_factors.csv` /
 * `item_factors.csv` (`id,f0,…,f{rank-1}`, original ids). A table is one CSV file when the job wrote
 * to a local folder, or a folder of `part-*.csv` files (each with its header) when Spark's executors
 * wrote it; both are read the same way. Checks everything it reads: a broken export is
 * RTREC_ERR_MODEL_CORRUPT naming the file and line, never a silently wrong model.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { atLocation, RecError } from '../core/errors.js';
import type { IdMap } from '../core/ids.js';
import { forEachRecord } from '../data/csv.js';

export const SPARK_EXPORT_FORMAT = 'rtrec-spark-export';
export const SPARK_EXPORT_FORMAT_VERSION = 1;
export const SPARK_EXPORT_FILE = 'export.json';

/** The parts of `export.json` rtrec uses (the job writes more: see jobs/spark/README.md). */
export interface SparkExport {
  readonly format: typeof SPARK_EXPORT_FORMAT;
  readonly formatVersion: number;
  /** rtrec model type the factors stand for: 'als' (explicit) or 'ials' (implicit). */
  readonly model: 'als' | 'ials';
  readonly implicit: boolean;
  /** In rtrec's names: rank, iterations, reg, alpha, nonnegative, seed. */
  readonly hyperParameters: {
    readonly rank: number;
    readonly iterations: number;
    readonly reg: number;
    readonly alpha: number;
    readonly nonnegative: boolean;
    readonly seed: number;
  };
  /** Rows read, distinct (user, item) pairs trained on, distinct users and items. */
  readonly counts: { readonly rows: number; readonly interactions: number; readonly users: number; readonly items: number };
  readonly files: {
    readonly userFactors: string;
    readonly itemFactors: string;
    readonly recommendations?: { readonly k: number; readonly excludeSeen: boolean; readonly path: string };
  };
  /**
   * Implicit only (jobs since the --ials-reg conversion): hyperParameters.reg = Spark's regParam × `factor`,
   * √(mean positive interactions per user × per item); absent in older exports, whose reg is regParam.
   */
  readonly regScale?: { readonly positiveInteractions: number; readonly factor: number };
  /** Root-mean-square error on the training pairs (explicit only). */
  readonly trainRmse?: number;
  readonly spark: { readonly version: string; readonly master: string };
  /** Seconds per step (readSeconds, prepareSeconds, fitSeconds, writeSeconds, totalSeconds, …). */
  readonly timings: Readonly<Record<string, number>>;
}

/** What reading one factor table found; `out` holds the vectors of the ids that `ids` knows. */
export interface FactorTableResult {
  /** Data rows read. */
  readonly rows: number;
  /** Per index of `ids`: 1 when the table had a vector for it. */
  readonly found: Uint8Array;
  /** Rows whose id `ids` does not know (skipped), and up to five of those ids. */
  readonly unknownCount: number;
  readonly unknownExamples: readonly string[];
}

function corrupt(file: string, why: string, line?: number): RecError {
  return new RecError('RTREC_ERR_MODEL_CORRUPT', atLocation(file, line, why), { details: { file, ...(line === undefined ? {} : { line }) } });
}

/**
 * Reads and checks `export.json` of an export folder.
 * @throws RTREC_ERR_MODEL_NOT_FOUND when the folder or its export.json is missing; RTREC_ERR_MODEL_CORRUPT
 *   when it is not a Spark export this rtrec understands.
 */
export async function readSparkExport(dir: string): Promise<SparkExport> {
  const file = join(dir, SPARK_EXPORT_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new RecError(
      'RTREC_ERR_MODEL_NOT_FOUND',
      `no Spark export at ${dir}: ${file} cannot be read (the Spark job writes it last, so a failed or unfinished run has none)`,
      { cause: err, details: { file } },
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new RecError('RTREC_ERR_MODEL_CORRUPT', `${file}: not valid JSON`, { cause: err, details: { file } });
  }
  return checkExport(raw, file);
}

function checkExport(raw: unknown, file: string): SparkExport {
  const x = raw as Partial<SparkExport> | null;
  if (typeof x !== 'object' || x === null || x.format !== SPARK_EXPORT_FORMAT) {
    throw corrupt(file, `not an rtrec Spark export (format must be ${JSON.stringify(SPARK_EXPORT_FORMAT)})`);
  }
  if (typeof x.formatVersion !== 'number' || x.formatVersion > SPARK_EXPORT_FORMAT_VERSION) {
    throw corrupt(file, `export format version ${String(x.formatVersion)} is newer than this rtrec understands (${SPARK_EXPORT_FORMAT_VERSION}); upgrade rtrec`);
  }
  if (x.model !== 'als' && x.model !== 'ials') throw corrupt(file, `model must be "als" or "ials", got ${JSON.stringify(x.model)}`);
  const hp = x.hyperParameters;
  if (typeof hp !== 'object' || hp === null) throw corrupt(file, 'hyperParameters missing');
  if (!Number.isInteger(hp.rank) || hp.rank < 1) throw corrupt(file, `hyperParameters.rank must be a positive integer, got ${JSON.stringify(hp.rank)}`);
  for (const key of ['iterations', 'reg', 'alpha', 'seed'] as const) {
    if (typeof hp[key] !== 'number' || !Number.isFinite(hp[key])) throw corrupt(file, `hyperParameters.${key} must be a number, got ${JSON.stringify(hp[key])}`);
  }
  const files = x.files;
  if (typeof files?.userFactors !== 'string' || typeof files.itemFactors !== 'string') throw corrupt(file, 'files.userFactors and files.itemFactors missing');
  const counts = x.counts;
  if (typeof counts !== 'object' || counts === null) throw corrupt(file, 'counts missing');
  return raw as SparkExport;
}

/** The CSV files of a table: the file itself, or a folder's `part-*` files in name order. */
async function tableFiles(path: string): Promise<string[]> {
  let isDir: boolean;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch (err) {
    throw new RecError('RTREC_ERR_MODEL_CORRUPT', `${path}: factor table missing from the export`, { cause: err, details: { file: path } });
  }
  if (!isDir) return [path];
  const parts = (await readdir(path)).filter((name) => name.startsWith('part-')).sort();
  return parts.map((name) => join(path, name));
}

/**
 * Reads a factor table into `out` (row-major [ids.size × rank], zero-filled by the caller) at the
 * index `ids` gives each row's id; rows with ids `ids` does not know are counted and skipped.
 * @param path the table: a CSV file or a folder of part files.
 * @throws RTREC_ERR_MODEL_CORRUPT on a wrong header, a wrong number of columns, a value that is not a
 *   finite number, or an id that appears twice.
 */
export async function readFactorTable(path: string, rank: number, ids: IdMap, out: Float32Array): Promise<FactorTableResult> {
  const found = new Uint8Array(ids.size);
  const unknownExamples: string[] = [];
  let unknownCount = 0;
  let rows = 0;
  for (const file of await tableFiles(path)) {
    let header = true;
    await forEachRecord(file, (fields, lineNo) => {
      if (header) {
        header = false;
        if (fields.length !== rank + 1 || fields[0] !== 'id' || fields[rank] !== `f${rank - 1}`) {
          throw corrupt(file, `header must be id,f0,…,f${rank - 1} (rank ${rank} from export.json), got ${fields.slice(0, 4).join(',')}${fields.length > 4 ? ',…' : ''}`, lineNo);
        }
        return;
      }
      if (fields.length !== rank + 1) throw corrupt(file, `expected ${rank + 1} columns, got ${fields.length}`, lineNo);
      rows++;
      const idx = ids.indexOf(fields[0]);
      if (idx < 0) {
        unknownCount++;
        if (unknownExamples.length < 5) unknownExamples.push(fields[0]);
        return;
      }
      if (found[idx]) throw corrupt(file, `id ${JSON.stringify(fields[0])} appears twice`, lineNo);
      found[idx] = 1;
      const base = idx * rank;
      for (let a = 0; a < rank; a++) {
        const value = Number(fields[a + 1]);
        if (!Number.isFinite(value) || fields[a + 1].trim() === '') throw corrupt(file, `f${a} of ${JSON.stringify(fields[0])} is not a finite number: ${JSON.stringify(fields[a + 1])}`, lineNo);
        out[base + a] = value;
      }
    });
  }
  return { rows, found, unknownCount, unknownExamples };
}
