import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCommand } from '../test-support/run-command.js';
import { RecError } from '../../core/errors.js';
import { registerEvaluateCommand } from './evaluate.js';

let dir: string;
let truth: string, pred: string, ratingPred: string, train: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rtrec-evaluate-cli-'));
  truth = join(dir, 'truth.csv');
  pred = join(dir, 'pred.csv');
  ratingPred = join(dir, 'rating.csv');
  train = join(dir, 'train.csv');
  await writeFile(truth, 'userId,itemId,rating\nann,m1,5\nann,m2,3\nben,m3,4\n');
  // ann: m1 (0.9) hit at rank 1, m9 (0.5); ben: m4 (0.8), m3 (0.1) hit at rank 2.
  await writeFile(pred, 'userId,itemId,score\nann,m1,0.9\nann,m9,0.5\nben,m4,0.8\nben,m3,0.1\n');
  await writeFile(ratingPred, 'userId,itemId,prediction\nann,m1,4\nben,m3,4\n');
  await writeFile(train, 'userId,itemId\ncat,m1\ncat,m9\ndan,m4\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
});

async function run(...args: string[]): Promise<string> {
  return (await runCommand(registerEvaluateCommand, ['evaluate', ...args])).stdout;
}

describe('rtrec evaluate', () => {
  it('--json prints exactly the documented keys; ranking metrics from a score file', async () => {
    const report = JSON.parse(await run('--truth', truth, '--pred', pred, '--k', '2', '--json')) as Record<string, number | null>;
    expect(Object.keys(report)).toEqual(['precision', 'recall', 'ndcg', 'map', 'mapAtK', 'rmse', 'mae', 'r2', 'explainedVariance', 'k', 'users']);
    // ann: 1 hit of 2 relevant at rank 1; ben: 1 hit of 1 relevant at rank 2; k = 2.
    expect(report.precision).toBeCloseTo((1 / 2 + 1 / 2) / 2, 12);
    expect(report.recall).toBeCloseTo((1 / 2 + 1) / 2, 12);
    expect(report.map).toBeCloseTo((1 / 2 + 1 / 2) / 2, 12); // ann: (1/1)/2; ben: (1/2)/1
    expect(report.mapAtK).toBeCloseTo((1 / 2 + 1 / 2) / 2, 12); // min(2,2) = 2, min(1,2) = 1
    const ndcgAnn = 1 / (1 + Math.log(2) / Math.log(3)); // (1/ln2) / (1/ln2 + 1/ln3)
    const ndcgBen = Math.log(2) / Math.log(3); // (1/ln3) / (1/ln2)
    expect(report.ndcg).toBeCloseTo((ndcgAnn + ndcgBen) / 2, 12);
    expect(report.rmse).toBeNull();
    expect(report.k).toBe(2);
    expect(report.users).toBe(2);
  });

  it('--train adds the beyond-accuracy keys; default k is 10', async () => {
    const report = JSON.parse(await run('--truth', truth, '--pred', pred, '--train', train, '--json')) as Record<string, number | null>;
    expect(Object.keys(report)).toEqual([
      'precision', 'recall', 'ndcg', 'map', 'mapAtK', 'rmse', 'mae', 'r2', 'explainedVariance',
      'catalogCoverage', 'distributionalCoverage', 'novelty', 'diversity', 'k', 'users',
    ]);
    expect(report.k).toBe(10);
    // Recommended {m1, m9, m4, m3} over train items {m1, m9, m4}.
    expect(report.catalogCoverage).toBeCloseTo(4 / 3, 12);
  });

  it('rating predictions give rating metrics and a table without the ranking rows', async () => {
    // y = [5, 4], ŷ = [4, 4] → RMSE √(1/2), MAE 1/2.
    const text = await run('--truth', truth, '--pred', ratingPred);
    expect(text).toContain('2 users evaluated, k = 10');
    expect(text).toMatch(/RMSE\s+0\.7071/);
    expect(text).toMatch(/MAE\s+0\.5000/);
    expect(text).not.toContain('precision');
  });

  it('the table labels metrics with the cut-off', async () => {
    const text = await run('--truth', truth, '--pred', pred, '--k', '2');
    expect(text).toMatch(/precision@2\s+0\.5000/);
    expect(text).toContain('nDCG@2');
  });

  it('bad input is an RTREC_ERR_EVAL_INPUT naming file:line; a bad --k is RTREC_ERR_CONFIG_INVALID', async () => {
    const bad = join(dir, 'bad.csv');
    await writeFile(bad, 'userId,itemId,score\nann,m1,0.9\nann,m2,oops\n');
    await expect(run('--truth', truth, '--pred', bad)).rejects.toMatchObject({ code: 'RTREC_ERR_EVAL_INPUT', message: expect.stringContaining(`${bad}:3:`) as unknown });
    await expect(run('--truth', truth, '--pred', pred, '--k', '0')).rejects.toBeInstanceOf(RecError);
    await expect(run('--truth', truth, '--pred', pred, '--k', '0')).rejects.toMatchObject({ code: 'RTREC_ERR_CONFIG_INVALID' });
  });
});
