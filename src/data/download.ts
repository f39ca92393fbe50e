/**
 * @module Downloads a MovieLens release from GroupLens: fetches the published `.md5`, streams the
 * zip to a temporary file while hashing it, verifies it, extracts it safely into a temporary folder
 * and renames that into `<destRoot>/<folder>`. Any failure leaves nothing behind.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeDirAtomic } from '../core/atomic-fs.js';
import { RecError } from '../core/errors.js';
import { extractZip } from './zip-extract.js';

export const DEFAULT_DATA_BASE_URL = 'https://files.grouplens.org/datasets/movielens';

interface DatasetSpec {
  /** Zip file name at the base URL. */
  readonly archive: string;
  /** Folder created under the destination root. */
  readonly folder: string;
  /** Files that must exist after extraction. */
  readonly files: readonly string[];
  /** Known sha256 of extracted files, checked in addition to the archive's md5. */
  readonly sha256?: Readonly<Record<string, string>>;
}

const ML_CSV_FILES = ['ratings.csv', 'movies.csv'];

export const DOWNLOADABLE_DATASETS = {
  'movielens-100k': {
    archive: 'ml-100k.zip',
    folder: 'ml-100k',
    files: ['u.data', 'u.item', 'u.genre'],
    sha256: { 'u.data': '06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490' },
  },
  'movielens-1m': { archive: 'ml-1m.zip', folder: 'ml-1m', files: ['ratings.dat', 'movies.dat'] },
  'movielens-10m': { archive: 'ml-10m.zip', folder: 'ml-10m', files: ['ratings.dat', 'movies.dat'] },
  'movielens-20m': { archive: 'ml-20m.zip', folder: 'ml-20m', files: ML_CSV_FILES },
  'movielens-25m': { archive: 'ml-25m.zip', folder: 'ml-25m', files: ML_CSV_FILES },
  'movielens-32m': { archive: 'ml-32m.zip', folder: 'ml-32m', files: ML_CSV_FILES },
  'movielens-latest-small': { archive: 'ml-latest-small.zip', folder: 'ml-latest-small', files: ML_CSV_FILES },
  'movielens-latest': { archive: 'ml-latest.zip', folder: 'ml-latest', files: ML_CSV_FILES },
} as const satisfies Record<string, DatasetSpec>;

export type DownloadableDataset = keyof typeof DOWNLOADABLE_DATASETS;
export const DOWNLOADABLE_NAMES = Object.keys(DOWNLOADABLE_DATASETS) as DownloadableDataset[];

export interface DownloadProgress {
  phase: 'download' | 'extract';
  /** Bytes downloaded or extracted so far. */
  done: number;
  /** Expected bytes; 0 when the server sent no content-length. */
  total: number;
}

export interface DownloadOptions {
  /** Folder URL holding the archives; default $RTREC_DATA_BASE_URL or GroupLens. */
  baseUrl?: string;
  onProgress?: (progress: DownloadProgress) => void;
}

export interface DownloadResult {
  name: DownloadableDataset;
  /** Folder holding the data set. */
  path: string;
  /** True when a valid copy was already there and nothing was fetched. */
  skipped: boolean;
  /** True when an incomplete or modified copy was there and has been replaced. */
  replaced: boolean;
  /** Size of the downloaded archive (0 when skipped). */
  archiveBytes: number;
  /** Verified md5 of the archive (null when skipped). */
  md5: string | null;
}

/**
 * Downloads and unpacks data set `name` into `<destRoot>/<folder>` (e.g. `data/ml-100k`), unless a
 * valid copy is already there. A copy with missing files or a wrong checksum is replaced, only once
 * the new one is complete.
 * @throws RTREC_ERR_CONFIG_INVALID for an unknown name; RTREC_ERR_DATA_DOWNLOAD on network or HTTP
 *   failure, checksum mismatch or a bad archive (nothing is left behind).
 */
export async function downloadDataset(name: string, destRoot: string, options: DownloadOptions = {}): Promise<DownloadResult> {
  if (!Object.hasOwn(DOWNLOADABLE_DATASETS, name)) {
    throw new RecError('RTREC_ERR_CONFIG_INVALID', `unknown data set ${JSON.stringify(name)}; expected one of ${DOWNLOADABLE_NAMES.join(', ')}`);
  }
  const key = name as DownloadableDataset;
  const spec: DatasetSpec = DOWNLOADABLE_DATASETS[key];
  const target = join(destRoot, spec.folder);
  if ((await checkDataset(target, spec)) === null) return { name: key, path: target, skipped: true, replaced: false, archiveBytes: 0, md5: null };
  const replaced = (await stat(target).catch(() => null)) !== null;

  const baseUrl = (options.baseUrl ?? process.env.RTREC_DATA_BASE_URL ?? DEFAULT_DATA_BASE_URL).replace(/\/+$/, '');
  const url = `${baseUrl}/${spec.archive}`;
  const expectedMd5 = parseMd5(url, await fetchText(`${url}.md5`));

  await mkdir(destRoot, { recursive: true });
  const tmpZip = join(destRoot, `.${spec.archive}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const { bytes, md5 } = await fetchToFile(url, tmpZip, options.onProgress);
    if (md5 !== expectedMd5) throw downloadError(`${url}: md5 mismatch (got ${md5}, published ${expectedMd5}); the download is corrupt or was tampered with`);
    await writeDirAtomic(target, async (dir) => {
      await extractZip(tmpZip, dir, {
        stripSingleRoot: true,
        onProgress: options.onProgress && ((done, total) => options.onProgress?.({ phase: 'extract', done, total })),
      });
      const problem = await checkDataset(dir, spec);
      if (problem !== null) throw downloadError(`${url}: ${problem}`);
    });
    return { name: key, path: target, skipped: false, replaced, archiveBytes: bytes, md5 };
  } finally {
    await rm(tmpZip, { force: true });
  }
}

/**
 * Checks an unpacked data set folder: every expected file present and non-empty, known sha256 sums
 * matching.
 * @returns null when valid, else what is wrong.
 */
async function checkDataset(dir: string, spec: DatasetSpec): Promise<string | null> {
  for (const file of spec.files) {
    const info = await stat(join(dir, file)).catch(() => null);
    if (info === null || !info.isFile() || info.size === 0) return `${file} missing or empty after extraction`;
  }
  for (const [file, expected] of Object.entries(spec.sha256 ?? {})) {
    const actual = await sha256File(join(dir, file));
    if (actual !== expected) return `sha256 of ${file} is ${actual}, expected ${expected}`;
  }
  return null;
}

/** Hex sha256 of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) hash.update(chunk);
  return hash.digest('hex');
}

/** The 32-hex-digit sum in a `.md5` file, whatever its layout (`MD5 (x.zip) = …` or `… x.zip`). */
export function parseMd5(url: string, text: string): string {
  const match = /\b([0-9a-f]{32})\b/i.exec(text);
  if (match === null) throw downloadError(`${url}.md5: no md5 sum found in ${JSON.stringify(text.slice(0, 80))}`);
  return match[1].toLowerCase();
}

function downloadError(message: string, cause?: unknown): RecError {
  return new RecError('RTREC_ERR_DATA_DOWNLOAD', message, cause === undefined ? {} : { cause });
}

async function get(url: string): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow' });
  } catch (err) {
    throw downloadError(`GET ${url} failed: ${(err as Error).message}`, err);
  }
  if (!res.ok || res.body === null) {
    await res.body?.cancel();
    throw downloadError(`GET ${url}: HTTP ${res.status} ${res.statusText}`.trimEnd());
  }
  return res;
}

async function fetchText(url: string): Promise<string> {
  return (await get(url)).text();
}

async function fetchToFile(url: string, path: string, onProgress: DownloadOptions['onProgress']): Promise<{ bytes: number; md5: string }> {
  const res = await get(url);
  const total = Number(res.headers.get('content-length') ?? 0) || 0;
  const hash = createHash('md5');
  const fh = await open(path, 'w');
  let bytes = 0;
  try {
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      await fh.write(chunk);
      bytes += chunk.length;
      onProgress?.({ phase: 'download', done: bytes, total });
    }
  } catch (err) {
    throw err instanceof RecError ? err : downloadError(`GET ${url}: download interrupted: ${(err as Error).message}`, err);
  } finally {
    await fh.close();
  }
  if (total > 0 && bytes !== total) throw downloadError(`GET ${url}: received ${bytes} of ${total} bytes`);
  return { bytes, md5: hash.digest('hex') };
}
