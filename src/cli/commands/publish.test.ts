import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'lmdb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRedis, rawCommand, startRedis, type RedisServer } from '../../../test/support/redis-server.js';
import { runCommand } from '../test-support/run-command.js';
import { InteractionsBuilder } from '../../data/interactions.js';
import { trainModel } from '../../jobs/train.js';
import { loadModel, saveModel } from '../../models/model-io.js';
import type { TrainedModel } from '../../models/trained-model.js';
import { buildApp } from '../../serve/app.js';
import { servedScore, testConfig } from '../../serve/test-support/serve-fixture.js';
import { LMDB_ENV_OPTIONS } from '../../store/lmdb-env-options.js';
import { openStore } from '../../store/open-store.js';
import { registerPublishCommand } from './publish.js';
import { registerVersionsCommand } from './versions.js';

let dir: string;
let modelDir: string;
let storeUrl: string;
let model: TrainedModel;

/** A made-up data set: 40 users, 25 items, each user likes a block of items plus a few random ones. */
async function trainTinyModel(): Promise<TrainedModel> {
  const b = new InteractionsBuilder({ hasRating: false, hasTimestamp: false });
  for (let u = 0; u < 40; u++) {
    for (let t = 0; t < 5; t++) b.add(`user${u}`, `item${(u % 5) * 5 + t}`);
    b.add(`user${u}`, `item${(u * 7) % 25}`);
  }
  const byId = new Map<string, Record<string, string | string[]>>();
  for (let i = 0; i < 25; i++) byId.set(`item${i}`, { title: `Made-up title ${i}`, genres: i % 2 ? ['Odd'] : ['Even'] });
  return trainModel({ interactions: b.build(), itemMetadata: { fields: ['title', 'genres'], byId }, source: 'test' }, { type: 'ease' });
}

/** Runs the CLI with only the commands under test; returns what it printed on stdout. */
async function cli(...args: string[]): Promise<string> {
  return (await runCommand((p) => {
    registerPublishCommand(p);
    registerVersionsCommand(p);
  }, args)).stdout;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rtrec-cli-publish-'));
  modelDir = join(dir, 'model');
  storeUrl = `lmdb://${join(dir, 'store')}`;
  await saveModel(modelDir, await trainTinyModel());
  model = await loadModel(modelDir);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('rtrec publish', () => {
  it('publishes a saved model; the server then answers what the model recommends', async () => {
    const report = JSON.parse(await cli('publish', '--model', modelDir, '--store', storeUrl, '--top-k', '20', '--batch', '7', '--json')) as { version: number; counts: Record<string, number> };
    expect(report.version).toBe(1);
    expect(report.counts).toEqual({ u: 40, s: 25, p: 1, c: 25 });

    const store = await openStore(storeUrl);
    const app = await buildApp({ store, config: testConfig(), logger: false });
    for (let u = 0; u < model.numUsers; u++) {
      const userId = model.users.idOf(u);
      const res = await app.inject({ method: 'GET', url: `/v1/users/${userId}/recommendations?k=10` });
      const ref = model.recommend(u, { k: 10, excludeSeen: true });
      const body = res.json<{ items: { itemId: string; score: number; title: string }[] }>();
      expect(body.items.map((i) => [i.itemId, i.score])).toEqual([...ref.items].map((i, j) => [model.items.idOf(i), servedScore(ref.scores[j])]));
      expect(body.items[0].title).toMatch(/^Made-up title/);
    }
    await app.close();
    await store.close();
  });

  it('prints a human summary with the scoring/writing split', async () => {
    const text = await cli('publish', '--model', modelDir, '--store', storeUrl, '--no-activate');
    expect(text).toMatch(/published version 2 .* \(not activated\)/);
    expect(text).toMatch(/scoring \d+\.\d\d s, store \d+\.\d\d s/);
  });

  it('rejects bad flags with RTREC_ERR_CONFIG_INVALID', async () => {
    await expect(cli('publish', '--model', modelDir, '--store', storeUrl, '--top-k', '0')).rejects.toMatchObject({ code: 'RTREC_ERR_CONFIG_INVALID' });
    await expect(cli('publish', '--model', modelDir, '--store', 'ftp://x')).rejects.toMatchObject({ code: 'RTREC_ERR_CONFIG_INVALID' });
  });
});

describe('rtrec versions', () => {
  it('lists, activates, rolls back and prunes', async () => {
    // From the tests above: version 1 active, version 2 ready but not active.
    let listing = JSON.parse(await cli('versions', 'list', '--store', storeUrl, '--json')) as { active: number; versions: { version: number; status: string }[] };
    expect(listing.active).toBe(1);
    expect(listing.versions.map((v) => [v.version, v.status])).toEqual([[1, 'ready'], [2, 'ready']]);
    expect(await cli('versions', 'list', '--store', storeUrl)).toMatch(/\*1\s+ready/);

    expect(JSON.parse(await cli('versions', 'activate', '2', '--store', storeUrl, '--json'))).toEqual({ active: 2 });
    await cli('publish', '--model', modelDir, '--store', storeUrl, '--json');
    expect(await cli('versions', 'rollback', '--store', storeUrl)).toBe('rolled back from version 3 to version 2\n');
    // Version 1 stopped being active moments ago: kept for the grace period, unless it is 0.
    expect(JSON.parse(await cli('versions', 'prune', '--keep', '1', '--store', storeUrl, '--json'))).toEqual({ deleted: [], kept: [1, 2, 3], orphans: [] });
    const pruned = JSON.parse(await cli('versions', 'prune', '--keep', '1', '--grace', '0', '--store', storeUrl, '--json')) as { deleted: number[]; kept: number[] };
    expect(pruned).toEqual({ deleted: [1], kept: [2, 3], orphans: [] });
    // Data written under version 1 after it was deleted (here behind the store's back): the next prune removes it, and says so.
    const env = open({ path: join(dir, 'store', 'rtrec.mdb'), ...LMDB_ENV_OPTIONS });
    await env.openDB({ name: 'data', encoding: 'binary' }).put([1, 'u', 'late'], Buffer.from([1]));
    await env.close();
    expect(await cli('versions', 'prune', '--keep', '1', '--grace', '0', '--store', storeUrl)).toBe('deleted nothing; kept 2, 3; removed data left under deleted version 1\n');
    expect(await cli('versions', 'prune', '--keep', '1', '--grace', '0', '--store', storeUrl)).toBe('deleted nothing; kept 2, 3\n');
    listing = JSON.parse(await cli('versions', 'list', '--store', storeUrl, '--json')) as typeof listing;
    expect(listing.active).toBe(2);
    expect(listing.versions.map((v) => v.version)).toEqual([2, 3]);
    await expect(cli('versions', 'activate', '1', '--store', storeUrl)).rejects.toMatchObject({ code: 'RTREC_ERR_STORE_VERSION_NOT_FOUND' });
    await expect(cli('versions', 'activate', 'x', '--store', storeUrl)).rejects.toMatchObject({ code: 'RTREC_ERR_CONFIG_INVALID' });
    const typo = `${storeUrl}-typo`;
    await expect(cli('versions', 'list', '--store', typo)).rejects.toMatchObject({ code: 'RTREC_ERR_STORE_UNAVAILABLE', message: expect.stringMatching(/no LMDB store in .*-typo/) as string });
    expect(existsSync(typo.slice('lmdb://'.length))).toBe(false);
    await expect(cli('versions', 'prune', '--keep', '0', '--store', storeUrl)).rejects.toMatchObject({ code: 'RTREC_ERR_CONFIG_INVALID', message: /--keep must be a whole number >= 1/ });
    expect((JSON.parse(await cli('versions', 'list', '--store', storeUrl, '--json')) as typeof listing).versions.map((v) => v.version)).toEqual([2, 3]);
  });
});

describeRedis('rtrec versions prune on Redis', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server.destroy();
  });

  it('prunes and warns when the sweep for data left under deleted versions fails', async () => {
    // A user allowed everything but SCAN: only the sweep's walk is refused.
    await rawCommand(server.port, 'ACL SETUSER cli-noscan on >secret-pw ~* &* +@all -scan');
    const url = `redis://cli-noscan:secret-pw@127.0.0.1:${server.port}/0?prefix=cli-prune`;
    await cli('publish', '--model', modelDir, '--store', url, '--json');
    await cli('publish', '--model', modelDir, '--store', url, '--json');
    const text = await cli('versions', 'prune', '--keep', '1', '--grace', '0', '--store', url);
    expect(text).toMatch(/^deleted 1; kept 2\nwarning: could not look for data left under deleted versions \(the next prune tries again\): .*NOPERM.*'scan'.*\n$/);
    expect(text).not.toContain('secret-pw');
    await cli('publish', '--model', modelDir, '--store', url, '--json');
    const json = JSON.parse(await cli('versions', 'prune', '--keep', '1', '--grace', '0', '--store', url, '--json')) as Record<string, unknown>;
    expect(json).toMatchObject({ deleted: [2], kept: [3], orphans: [], sweepError: expect.stringMatching(/NOPERM/) as unknown });
  });
});
