/** @module Tests of `rtrec split`: writes both files atomically, they reload to a partition of the input, flag checks. */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCommand } from '../test-support/run-command.js';
import { RecError } from '../../core/errors.js';
import { loadDataset } from '../../data/load-dataset.js';
import { registerSplitCommand } from './split.js';

let dir: string;
let data: string;
/** Made-up rows: user k has k + 2 interactions, one per item, at increasing times. */
const ROWS: string[] = [];
for (let u = 0; u < 6; u++) for (let j = 0; j < u + 2; j++) ROWS.push(`user${u},item${j},${1 + ((u + j) % 5)},${1_600_000_000 + u * 1000 + j * 10}`);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rtrec-split-cli-'));
  data = join(dir, 'events.csv');
  await writeFile(data, `userId,itemId,rating,timestamp\n${ROWS.join('\n')}\n`);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
});

async function run(...args: string[]): Promise<string> {
  return (await runCommand(registerSplitCommand, ['split', ...args])).stdout;
}

async function runError(...args: string[]): Promise<RecError> {
  try {
    await run(...args);
  } catch (err) {
    expect(err).toBeInstanceOf(RecError);
    return err as RecError;
  }
  throw new Error('expected the command to fail');
}

/** The data rows of a CSV file (header dropped), sorted. */
async function bodyRows(file: string): Promise<string[]> {
  return (await readFile(file, 'utf8')).trim().split('\n').slice(1).sort();
}

describe('rtrec split', () => {
  it('writes train.csv and test.csv that reload and partition the input', async () => {
    const out = join(dir, 'strat');
    const report = JSON.parse(await run('--data', data, '--strategy', 'stratified', '--out', out, '--json')) as Record<string, unknown>;
    expect((await readdir(out)).sort()).toEqual(['test.csv', 'train.csv']);
    const train = await bodyRows(join(out, 'train.csv'));
    const test = await bodyRows(join(out, 'test.csv'));
    expect([...train, ...test].sort()).toEqual([...ROWS].sort());
    // Per user (c = 2..7 rows) at ratio 0.75 the rule trains 1, 2, 3, 3, 4, 5.
    expect(train.length).toBe(1 + 2 + 3 + 3 + 4 + 5);
    expect(report.train).toMatchObject({ rows: 18, users: 6 });
    expect(report.test).toMatchObject({ rows: ROWS.length - 18, users: 6, usersNotInTrain: 0 });
    expect(report.split).toEqual({ strategy: 'stratified', ratio: 0.75, seed: 42, by: 'user', minRating: 1 });
    const reloaded = await loadDataset(join(out, 'train.csv'));
    expect(reloaded.interactions.length).toBe(18);
    expect(reloaded.interactions.timestamp).not.toBeNull();
    expect(reloaded.interactions.rating).not.toBeNull();
  });

  it('leave-last-n-out holds out each user\'s latest row; a table without --json', async () => {
    const out = join(dir, 'lnlo');
    const text = await run('--data', data, '--strategy', 'leave-last-n-out', '--out', out);
    expect(text).toMatch(/^train\s+21\s+6\s/m);
    expect(text).toMatch(/^test\s+6\s+6\s/m);
    const latest = [0, 1, 2, 3, 4, 5].map((u) => ROWS.filter((r) => r.startsWith(`user${u},`)).at(-1)!);
    expect(await bodyRows(join(out, 'test.csv'))).toEqual(latest.sort());
  });

  it('replaces a previous split but refuses a folder holding other files', async () => {
    const out = join(dir, 'again');
    await run('--data', data, '--strategy', 'random', '--ratio', '0.5', '--out', out, '--json');
    await run('--data', data, '--strategy', 'random', '--ratio', '0.25', '--out', out, '--json');
    expect((await bodyRows(join(out, 'train.csv'))).length).toBe(Math.round(0.25 * ROWS.length));
    const busy = join(dir, 'busy');
    await mkdir(busy);
    await writeFile(join(busy, 'notes.txt'), 'keep me');
    const err = await runError('--data', data, '--strategy', 'random', '--out', busy);
    expect(err.code).toBe('RTREC_ERR_CONFIG_INVALID');
    expect(err.message).toMatch(/holds other files/);
    expect(await readdir(busy)).toEqual(['notes.txt']);
  });

  it('rejects flags that do not apply and impossible splits, writing nothing', async () => {
    const out = join(dir, 'never');
    const e1 = await runError('--data', data, '--strategy', 'random', '--n', '2', '--out', out);
    expect(e1.code).toBe('RTREC_ERR_CONFIG_INVALID');
    expect(e1.message).toMatch(/--n does not apply to --strategy random/);
    // Refused as a flag, before the data is read.
    const e2 = await runError('--data', join(dir, 'not-read.csv'), '--strategy', 'stratified', '--ratio', '1', '--out', out);
    expect(e2.code).toBe('RTREC_ERR_CONFIG_INVALID');
    expect(e2.message).toMatch(/--ratio is the train fraction and must be strictly between 0 and 1, got "1"/);
    const noTime = join(dir, 'no-time.csv');
    await writeFile(noTime, 'userId,itemId\na,x\na,y\n');
    const e3 = await runError('--data', noTime, '--strategy', 'chronological', '--out', out);
    expect(e3.code).toBe('RTREC_ERR_SPLIT_INVALID');
    expect(await readdir(dir)).not.toContain('never');
  });
});
