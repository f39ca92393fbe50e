import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCommand } from '../test-support/run-command.js';
import { RecError } from '../../core/errors.js';
import { loadModel } from '../../models/model-io.js';
import { registerImportModelCommand } from './import-model.js';

let dir: string;
let exportDir: string;
let train: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rtrec-import-model-cli-'));
  // Made-up training data: 2 users, 3 items; item "c" has no Spark factor.
  train = join(dir, 'train.csv');
  await writeFile(train, 'userId,itemId,rating\nx,a,4\nx,b,2\ny,c,5\n');
  exportDir = join(dir, 'export');
  await mkdir(exportDir);
  await writeFile(
    join(exportDir, 'export.json'),
    JSON.stringify({
      format: 'rtrec-spark-export',
      formatVersion: 1,
      model: 'als',
      implicit: false,
      hyperParameters: { rank: 1, iterations: 3, reg: 0.1, alpha: 1, nonnegative: false, seed: 9 },
      counts: { rows: 3, interactions: 3, users: 2, items: 3 },
      files: { userFactors: 'user_factors.csv', itemFactors: 'item_factors.csv' },
      spark: { version: '4.0.5', master: 'local[2]' },
      timings: { fitSeconds: 2 },
    }),
  );
  await writeFile(join(exportDir, 'user_factors.csv'), 'id,f0\ny,-1\nx,2\n');
  await writeFile(join(exportDir, 'item_factors.csv'), 'id,f0\nb,0.5\na,1.5\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
});

async function run(...args: string[]): Promise<{ out: string; err: string }> {
  const { stdout, stderr } = await runCommand(registerImportModelCommand, ['import-model', ...args]);
  return { out: stdout, err: stderr };
}

describe('rtrec import-model', () => {
  it('writes a model folder that loads, with the Spark factors by id; --json reports what it found', async () => {
    const modelDir = join(dir, 'model');
    const { out } = await run('--from', exportDir, '--data', train, '--out', modelDir, '--json');
    const result = JSON.parse(out) as Record<string, unknown>;
    expect(result).toMatchObject({ model: 'als', engine: 'spark', sparkVersion: '4.0.5', users: 2, items: 3, missingUsers: 0, missingItems: 1 });
    expect((result.warnings as string[]).some((w) => w.includes('"c"'))).toBe(true);

    const model = await loadModel(modelDir);
    expect(model.info.training.engine).toBe('spark');
    // x = 2, a = 1.5, b = 0.5: predictions 3 and 1 (rank 1, hand-computed).
    expect(model.predict(model.users.indexOf('x'), model.items.indexOf('a'))).toBeCloseTo(3, 6);
    expect(model.predict(model.users.indexOf('x'), model.items.indexOf('b'))).toBeCloseTo(1, 6);
    expect(model.predict(model.users.indexOf('y'), model.items.indexOf('c'))).toBeNaN();
  });

  it('prints warnings on stderr and a summary on stdout without --json', async () => {
    const { out, err } = await run('--from', exportDir, '--data', train, '--out', join(dir, 'model-text'));
    expect(out).toContain('imported Spark 4.0.5 als model (2 users, 3 items, rank 1)');
    expect(err).toMatch(/^warning: 1 of 3 items/m);
  });

  it('a missing export is MODEL_NOT_FOUND', async () => {
    await expect(run('--from', join(dir, 'nope'), '--data', train, '--out', join(dir, 'm2'))).rejects.toSatisfy(
      (e: unknown) => e instanceof RecError && e.code === 'RTREC_ERR_MODEL_NOT_FOUND',
    );
  });
});
