import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../test-support/run-command.js';
import { openStore } from '../../store/open-store.js';
import { registerPublishSparkCommand } from './publish-spark.js';

let dir: string;

/** A hand-written export with precomputed lists: two items, two users, no similar items. */
async function writeExport(exportDir: string): Promise<void> {
  await mkdir(join(exportDir, 'precompute'), { recursive: true });
  await writeFile(
    join(exportDir, 'export.json'),
    JSON.stringify({
      format: 'rtrec-spark-export',
      formatVersion: 1,
      model: 'ials',
      implicit: true,
      hyperParameters: { rank: 2, iterations: 1, reg: 0.1, alpha: 1, nonnegative: false, seed: 1 },
      counts: { rows: 3, interactions: 3, users: 2, items: 2 },
      files: {
        userFactors: 'user_factors.csv',
        itemFactors: 'item_factors.csv',
        precompute: { k: 2, similarK: 0, margin: 50, userRecs: 'precompute/user_recs.jsonl', items: 'precompute/items.jsonl', counts: { userRecs: 2, similarItems: 0, items: 2 } },
      },
      spark: { version: '4.0.0', master: 'local[2]' },
      timings: {},
    }),
  );
  await writeFile(join(exportDir, 'precompute', 'items.jsonl'), '{"itemId":"m1","users":2}\n{"itemId":"m2","users":1}\n');
  await writeFile(join(exportDir, 'precompute', 'user_recs.jsonl'), '{"userId":"x","items":[["m2",0.5]]}\n{"userId":"y","items":[["m1",1.5],["m2",0.25]]}\n');
}

async function cli(...args: string[]): Promise<string> {
  return (await runCommand(registerPublishSparkCommand, args)).stdout;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rtrec-cli-publish-spark-'));
  await writeExport(join(dir, 'export'));
  await writeFile(join(dir, 'items.csv'), 'itemId,title,genres\nm1,First made-up,Drama|Comedy\nm2,Second made-up,Drama\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('rtrec publish-spark', () => {
  it('publishes the precomputed lists with --items metadata and prints the report as JSON', async () => {
    const url = `lmdb://${join(dir, 'store')}`;
    const out = await cli('publish-spark', '--from', join(dir, 'export'), '--store', url, '--items', join(dir, 'items.csv'), '--json');
    const report = JSON.parse(out) as { version: number; activated: boolean; counts: Record<string, number> };
    expect(report).toMatchObject({ version: 1, activated: true, counts: { u: 2, s: 0, p: 1, c: 2 } });
    const store = await openStore(url);
    try {
      const catalog = await store.readCatalog(1);
      expect(catalog.ids).toEqual(['m1', 'm2']);
      expect(catalog.metadata[0]).toEqual({ title: 'First made-up', genres: ['Drama', 'Comedy'] });
      const y = await store.getUserRecs(1, 'y');
      expect([...y!.items]).toEqual([0, 1]);
      expect([...y!.scores]).toEqual([1.5, 0.25]);
    } finally {
      await store.close();
    }
  });

  it('--no-activate writes a ready version and leaves the active one', async () => {
    const url = `lmdb://${join(dir, 'store2')}`;
    const out = await cli('publish-spark', '--from', join(dir, 'export'), '--store', url, '--no-activate');
    expect(out).toContain('published version 1');
    expect(out).toContain('not activated');
    const store = await openStore(url);
    try {
      expect(await store.activeVersion()).toBeNull();
      expect((await store.getVersion(1))?.status).toBe('ready');
    } finally {
      await store.close();
    }
  });
});
