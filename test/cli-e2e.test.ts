/**
 * End to end through the real `rtrec` binary on MovieLens 100K (read from ../shared/data or
 * $RTREC_DATA_DIR, never copied): split → train → recommend/predict → evaluate, checking that the
 * file-based evaluation of the CLI's own outputs agrees with the metrics `train --test` computed
 * in-process, and that bad input fails with a code and a non-zero exit.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '..');
const bin = join(repo, 'bin', 'rtrec.js');
const ml100k = join(process.env.RTREC_DATA_DIR ?? resolve(repo, '../shared/data'), 'ml-100k');

async function rtrec(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { cwd: repo, env: { ...process.env, RTREC_NO_PROGRESS: '1' }, maxBuffer: 64 << 20 });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

async function json<T>(...args: string[]): Promise<T> {
  const r = await rtrec(...args, '--json');
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as T;
}

const haveBuild = existsSync(join(repo, 'dist', 'cli', 'main.js'));
const haveData = existsSync(join(ml100k, 'u.data'));
if (!haveBuild || !haveData) {
  console.warn(`\n*** SKIPPING CLI end-to-end tests: ${haveBuild ? '' : 'dist/ is not built (npm run build) '}${haveData ? '' : `no MovieLens 100K at ${ml100k}`} ***\n`);
}

describe.skipIf(!haveBuild || !haveData)('rtrec CLI on MovieLens 100K', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rtrec-e2e-'));
    const split = await rtrec('split', '--data', ml100k, '--strategy', 'stratified', '--by', 'item', '--out', join(dir, 'split'));
    expect(split.code).toBe(0);
  });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  it('quickstart trains the best model, publishes it, and beats the published BiVAE numbers on all four ranking metrics', async () => {
    const r = await json<{ model: string; metrics: Record<string, number>; version: number }>(
      'quickstart', '--data', ml100k, '--out', join(dir, 'quickstart'), '--store', `lmdb://${join(dir, 'store')}`, '--no-serve',
    );
    expect(r.version).toBe(1);
    expect(r.model).toBe('ease');
    expect(r.metrics.map).toBeGreaterThan(0.146);
    expect(r.metrics.ndcg).toBeGreaterThan(0.475);
    expect(r.metrics.precision).toBeGreaterThan(0.412);
    expect(r.metrics.recall).toBeGreaterThan(0.219);
    expect(existsSync(join(dir, 'quickstart', 'manifest.json'))).toBe(true);
    const versions = await json<{ active: number | null }>('versions', 'list', '--store', `lmdb://${join(dir, 'store')}`);
    expect(versions.active).toBe(1);
  });

  it('data info describes the data set', async () => {
    const info = await json<{ users: number; items: number; interactions: number }>('data', 'info', ml100k);
    expect(info).toMatchObject({ users: 943, items: 1682, interactions: 100_000 });
  });

  it('train → recommend → evaluate agrees with the in-process evaluation of train --test', async () => {
    const train = join(dir, 'split', 'train.csv'), test = join(dir, 'split', 'test.csv');
    const trained = await json<{ metrics: Record<string, number> }>('train', '--data', train, '--test', test, '--model', 'ease', '--out', join(dir, 'ease'));
    expect(trained.metrics.ndcg).toBeGreaterThan(0.4);

    const recs = join(dir, 'recs.csv');
    const summary = await json<{ users: number; rows: number }>('recommend', '--model', join(dir, 'ease'), '--k', '10', '--exclude-seen', '--out', recs);
    expect(summary).toMatchObject({ users: 943, rows: 9430 });
    const lines = (await readFile(recs, 'utf8')).trim().split('\n');
    expect(lines[0]).toBe('userId,itemId,score,rank');
    expect(lines).toHaveLength(9431);

    const evaluated = await json<Record<string, number>>('evaluate', '--truth', test, '--pred', recs, '--k', '10');
    for (const key of ['precision', 'recall', 'ndcg', 'map', 'mapAtK']) expect(evaluated[key]).toBeCloseTo(trained.metrics[key], 6);

    // report on the saved model gives the same numbers as train --test did before saving.
    const reported = await json<Record<string, number>>('report', '--model', join(dir, 'ease'), '--test', test, '--save');
    for (const key of ['precision', 'recall', 'ndcg', 'map', 'novelty']) expect(reported[key]).toBeCloseTo(trained.metrics[key], 6);
  });

  it('train als → predict → evaluate gives the RMSE train --test reported', async () => {
    const train = join(dir, 'split', 'train.csv'), test = join(dir, 'split', 'test.csv');
    const trained = await json<{ metrics: Record<string, number> }>('train', '--data', train, '--test', test, '--model', 'als', '--out', join(dir, 'als'));
    expect(trained.metrics.rmse).toBeLessThan(1);
    const preds = join(dir, 'preds.csv');
    const p = await json<{ predicted: number; droppedColdStart: number }>('predict', '--model', join(dir, 'als'), '--pairs', test, '--out', preds);
    expect(p.predicted + p.droppedColdStart).toBe(25_669);
    const evaluated = await json<Record<string, number>>('evaluate', '--truth', test, '--pred', preds);
    expect(evaluated.rmse).toBeCloseTo(trained.metrics.rmse, 4);
    expect(evaluated.mae).toBeCloseTo(trained.metrics.mae, 4);
  });

  it('trains on several --data sources combined (base data plus exported events)', async () => {
    const extra = join(dir, 'events.csv');
    await writeFile(extra, 'userId,itemId,rating,timestamp\nnewcomer,50,5,1900000000\nnewcomer,181,4,1900000001\n1,50,1,1900000002\n');
    const trained = await json<{ users: number; items: number; interactions: number }>(
      'train', '--data', join(dir, 'split', 'train.csv'), '--data', extra, '--model', 'ease', '--out', join(dir, 'combined'),
    );
    const base = await json<{ users: number; interactions: number }>('train', '--data', join(dir, 'split', 'train.csv'), '--model', 'pop', '--out', join(dir, 'base'));
    expect(trained.users).toBe(base.users + 1);
    // Two new pairs; user 1's rating of item 50 replaces an old one if it had rated it, else adds one.
    expect(trained.interactions - base.interactions).toBeGreaterThanOrEqual(2);
    expect(trained.interactions - base.interactions).toBeLessThanOrEqual(3);
    const recs = join(dir, 'newcomer.csv');
    await writeFile(join(dir, 'users.txt'), 'newcomer\n');
    await json('recommend', '--model', join(dir, 'combined'), '--users', join(dir, 'users.txt'), '--exclude-seen', '--out', recs);
    const items = (await readFile(recs, 'utf8')).trim().split('\n').slice(1).map((line) => line.split(',')[1]);
    expect(items).toHaveLength(10);
    expect(items).not.toContain('50');
    expect(items).not.toContain('181');
    // A list of only unknown users is an error, not an empty file.
    await writeFile(join(dir, 'strangers.txt'), 'nobody\nno-one\n');
    const none = await rtrec('recommend', '--model', join(dir, 'combined'), '--users', join(dir, 'strangers.txt'), '--out', join(dir, 'none.csv'));
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/RTREC_ERR_CONFIG_INVALID: none of the 2 users listed in .*strangers\.txt is known to the model \(e\.g\. "nobody"\)/);
    expect(existsSync(join(dir, 'none.csv'))).toBe(false);
  });

  it('fails with a code, the path and exit 2 on a missing data file, leaving no model behind', async () => {
    const r = await rtrec('train', '--data', join(dir, 'nope.csv'), '--out', join(dir, 'never'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error RTREC_ERR_DATA_NOT_FOUND: .*nope\.csv/);
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });

  it('rejects a hyper-parameter that does not apply to the model', async () => {
    const r = await rtrec('train', '--data', join(dir, 'split', 'train.csv'), '--model', 'ease', '--rank', '8', '--out', join(dir, 'x'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/RTREC_ERR_CONFIG_INVALID: --rank does not apply to model 'ease'/);
  });
});
