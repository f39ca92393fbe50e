import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { strToU8, zipSync } from 'fflate';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isRecError } from '../core/errors.js';
import { downloadDataset, parseMd5, sha256File } from './download.js';
import { loadDataset } from './load-dataset.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const ML100K = join(process.env.RTREC_DATA_DIR ?? resolve(REPO, '..', 'shared', 'data'), 'ml-100k');

/** path → body served with 200; anything else is a 404. Requests are logged. */
const routes = new Map<string, Uint8Array | string>();
const requests: string[] = [];
let server: Server;
let baseUrl: string;
let root: string;
let case_ = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const body = routes.get(req.url ?? '');
    if (body === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not here');
      return;
    }
    const bytes = typeof body === 'string' ? Buffer.from(body) : Buffer.from(body);
    res.writeHead(200, { 'content-length': bytes.length }).end(bytes);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/datasets`;
  root = await mkdtemp(join(tmpdir(), 'rtrec-download-'));
});
afterAll(async () => {
  await new Promise<void>((ok) => server.close(() => ok()));
  await rm(root, { recursive: true, force: true });
});
beforeEach(() => {
  routes.clear();
  requests.length = 0;
});

const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('hex');

/** A fresh destination root per test. */
function destRoot(): string {
  return join(root, `dest${++case_}`);
}

function serve(archive: string, zip: Uint8Array, md5Text = `MD5 (${archive}) = ${md5(zip)}\n`): void {
  routes.set(`/datasets/${archive}`, zip);
  routes.set(`/datasets/${archive}.md5`, md5Text);
}

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isRecError(err)) throw new Error(`expected a RecError, got ${String(err)}`);
  return { code: err.code, message: err.message };
}

/** Made-up MovieLens-latest-style archive (top folder like the real ones). */
function latestSmallZip(): Uint8Array {
  return zipSync({
    'ml-latest-small/ratings.csv': strToU8('userId,movieId,rating,timestamp\n1,10,4.5,1000\n2,10,3.0,2000\n2,11,5.0,3000\n'),
    'ml-latest-small/movies.csv': strToU8('movieId,title,genres\n10,"Made Up, The (2020)",Drama\n11,Other (2021),Comedy|Drama\n'),
  });
}

describe('parseMd5', () => {
  it('reads BSD and GNU layouts', () => {
    const sum = '0e33842e24a9c977be4e0107933c0723';
    expect(parseMd5('u', `MD5 (ml-100k.zip) = ${sum}\n`)).toBe(sum);
    expect(parseMd5('u', `${sum.toUpperCase()}  ml-100k.zip\n`)).toBe(sum);
    expect(() => parseMd5('u', '<html>')).toThrow(/no md5 sum/);
  });
});

describe('downloadDataset (local server only)', () => {
  it('downloads, verifies, unpacks into <dest>/ml-latest-small, then skips a valid copy', async () => {
    serve('ml-latest-small.zip', latestSmallZip());
    const dest = destRoot();
    const phases = new Set<string>();
    const result = await downloadDataset('movielens-latest-small', dest, { baseUrl, onProgress: (p) => phases.add(p.phase) });
    expect(result).toMatchObject({ skipped: false, replaced: false });
    expect(result.path).toBe(join(dest, 'ml-latest-small'));
    expect(phases).toEqual(new Set(['download', 'extract']));
    expect(await readdir(dest)).toEqual(['ml-latest-small']);
    const ds = await loadDataset(result.path);
    expect(ds.interactions.length).toBe(3);
    expect(ds.itemMetadata?.byId.get('10')?.title).toBe('Made Up, The (2020)');

    requests.length = 0;
    const again = await downloadDataset('movielens-latest-small', dest, { baseUrl });
    expect(again.skipped).toBe(true);
    expect(requests).toEqual([]);

    // A damaged copy (expected file gone) is replaced by a fresh download.
    await rm(join(result.path, 'movies.csv'));
    const repaired = await downloadDataset('movielens-latest-small', dest, { baseUrl });
    expect(repaired).toMatchObject({ skipped: false, replaced: true });
    expect((await readdir(result.path)).sort()).toEqual(['movies.csv', 'ratings.csv']);
    expect(await readdir(dest)).toEqual(['ml-latest-small']);
  });

  it('takes the base URL from RTREC_DATA_BASE_URL', async () => {
    serve('ml-latest-small.zip', latestSmallZip());
    const saved = process.env.RTREC_DATA_BASE_URL;
    process.env.RTREC_DATA_BASE_URL = `${baseUrl}/`;
    try {
      expect((await downloadDataset('movielens-latest-small', destRoot())).skipped).toBe(false);
    } finally {
      if (saved === undefined) delete process.env.RTREC_DATA_BASE_URL;
      else process.env.RTREC_DATA_BASE_URL = saved;
    }
  });

  it('fails on an md5 mismatch and leaves nothing behind', async () => {
    serve('ml-latest-small.zip', latestSmallZip(), `MD5 (ml-latest-small.zip) = ${'0'.repeat(32)}\n`);
    const dest = destRoot();
    const err = await failure(downloadDataset('movielens-latest-small', dest, { baseUrl }));
    expect(err.code).toBe('RTREC_ERR_DATA_DOWNLOAD');
    expect(err.message).toContain('md5 mismatch');
    expect(await readdir(dest)).toEqual([]);
  });

  it('fails on HTTP 404 for the archive or its checksum', async () => {
    const dest = destRoot();
    const err = await failure(downloadDataset('movielens-1m', dest, { baseUrl }));
    expect(err.code).toBe('RTREC_ERR_DATA_DOWNLOAD');
    expect(err.message).toContain(`${baseUrl}/ml-1m.zip.md5: HTTP 404`);
    routes.set('/datasets/ml-1m.zip.md5', `${'a'.repeat(32)}  ml-1m.zip\n`);
    const err2 = await failure(downloadDataset('movielens-1m', dest, { baseUrl }));
    expect(err2.message).toContain(`${baseUrl}/ml-1m.zip: HTTP 404`);
    expect(existsSync(join(dest, 'ml-1m'))).toBe(false);
    expect(await readdir(dest)).toEqual([]);
  });

  it('refuses an archive with a zip-slip entry, writing nothing', async () => {
    serve('ml-latest-small.zip', zipSync({ 'ml-latest-small/ratings.csv': strToU8('userId,movieId\n1,2\n'), '../escape.csv': strToU8('x') }));
    const dest = destRoot();
    const err = await failure(downloadDataset('movielens-latest-small', dest, { baseUrl }));
    expect(err.message).toContain('refusing zip entry');
    expect(await readdir(dest)).toEqual([]);
    expect(existsSync(join(dest, '..', 'escape.csv'))).toBe(false);
  });

  it('fails when the archive lacks the expected files', async () => {
    serve('ml-1m.zip', zipSync({ 'ml-1m/README': strToU8('no data here') }));
    const dest = destRoot();
    const err = await failure(downloadDataset('movielens-1m', dest, { baseUrl }));
    expect(err.message).toContain('ratings.dat missing');
    expect(await readdir(dest)).toEqual([]);
  });

  it('rejects an unknown data set name', async () => {
    const err = await failure(downloadDataset('movielens-7m', destRoot(), { baseUrl }));
    expect(err.code).toBe('RTREC_ERR_CONFIG_INVALID');
    expect(err.message).toContain('movielens-100k');
  });

  it('fails the ml-100k u.data sha256 check on a made-up u.data even when the md5 matches', async () => {
    serve('ml-100k.zip', zipSync({ 'ml-100k/u.data': strToU8('1\t2\t3\t4\n'), 'ml-100k/u.item': strToU8('2|T|d||u\n'), 'ml-100k/u.genre': strToU8('x|0\n') }));
    const dest = destRoot();
    const err = await failure(downloadDataset('movielens-100k', dest, { baseUrl }));
    expect(err.code).toBe('RTREC_ERR_DATA_DOWNLOAD');
    expect(err.message).toContain('sha256 of u.data');
    expect(await readdir(dest)).toEqual([]);
  });
});

describe.skipIf(!existsSync(join(ML100K, 'u.data')))('downloadDataset with an archive built from the shared ml-100k (in memory)', () => {
  it('passes md5 and sha256 checks and loads', async () => {
    const files: Record<string, Uint8Array> = {};
    for (const name of ['u.data', 'u.item', 'u.genre']) files[`ml-100k/${name}`] = readFileSync(join(ML100K, name));
    serve('ml-100k.zip', zipSync(files));
    const dest = destRoot();
    const result = await downloadDataset('movielens-100k', dest, { baseUrl });
    expect(result.skipped).toBe(false);
    expect(await sha256File(join(result.path, 'u.data'))).toBe('06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490');
    const ds = await loadDataset(result.path);
    expect(ds.interactions.length).toBe(100_000);
    expect((await downloadDataset('movielens-100k', dest, { baseUrl })).skipped).toBe(true);
  });
});
