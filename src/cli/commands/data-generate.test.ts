/** @module Tests of `rtrec data generate`: the files it writes reload with the requested counts. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCommand } from '../test-support/run-command.js';
import { loadDataset } from '../../data/load-dataset.js';
import { loadItemMetadataFile } from '../../data/load-item-metadata.js';
import { registerDataGenerateCommand } from './data-generate.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rtrec-generate-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
});

async function run(...args: string[]): Promise<string> {
  return (await runCommand((p) => registerDataGenerateCommand(p.command('data')), ['data', 'generate', ...args])).stdout;
}

describe('rtrec data generate', () => {
  it('writes an explicit interactions file and item metadata that reload', async () => {
    const out = join(dir, 'synth.csv');
    const itemsOut = join(dir, 'items.csv');
    const report = JSON.parse(await run('--users', '50', '--items', '80', '--interactions', '900', '--rank', '4', '--explicit', '--seed', '3', '--out', out, '--items-out', itemsOut, '--json')) as Record<string, unknown>;
    expect(report).toMatchObject({ users: 50, items: 80, interactions: 900, ratings: 'stars 1-5' });
    const back = await loadDataset(out);
    const x = back.interactions;
    expect(x.length).toBe(900);
    expect(x.users.size).toBe(50);
    expect(x.items.size).toBe(report.itemsWithInteractions);
    expect(new Set(x.rating)).toEqual(new Set([1, 2, 3, 4, 5]));
    expect(x.timestamp).not.toBeNull();
    const items = await loadItemMetadataFile(itemsOut);
    expect(items.byId.size).toBe(80);
    expect(items.fields).toEqual(['title', 'genres']);
  });

  it('is implicit by default and reproducible with the same seed', async () => {
    const a = join(dir, 'a.csv');
    const b = join(dir, 'b.csv');
    await run('--users', '20', '--items', '30', '--interactions', '200', '--out', a, '--json');
    const text = await run('--users', '20', '--items', '30', '--interactions', '200', '--out', b);
    expect(text).toMatch(/generated 200 interactions/);
    const xa = (await loadDataset(a)).interactions;
    const xb = (await loadDataset(b)).interactions;
    expect(xa.rating).toBeNull();
    expect(xa.item).toEqual(xb.item);
    expect(xa.timestamp).toEqual(xb.timestamp);
  });

  it('refuses sizes beyond int32 ids, and sizes memory cannot hold, with a clear error', async () => {
    const out = join(dir, 'huge.csv');
    await expect(run('--users', '10', '--items', '3000000000', '--interactions', '20', '--out', out)).rejects.toMatchObject({ code: 'RTREC_ERR_CONFIG_INVALID', message: expect.stringMatching(/--items must be a whole number from 1 to 2147483647/) as string });
    await expect(run('--users', '10', '--items', '2000000000', '--interactions', '20', '--out', out)).rejects.toMatchObject({ code: 'RTREC_ERR_CONFIG_INVALID', message: expect.stringMatching(/too large to generate in memory/) as string });
  });
});
