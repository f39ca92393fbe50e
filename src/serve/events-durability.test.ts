import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../test/support/redis-server.js';
import { explicitAlsModel, referenceFoldIn, type ExplicitAls } from '../events/test-support/explicit-als.js';
import { publishModel } from '../jobs/publish.js';
import { saveModel } from '../models/model-io.js';
import { openStore } from '../store/open-store.js';
import { spawnNode, transpileForChild, waitForLine } from './test-support/ts-child.js';

const KEY = 'events-key-0123456789';

describe('rtrec serve killed with SIGKILL right after a 202', () => {
  let dir: string;
  let als: ExplicitAls;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rtrec-events-kill-'));
    als = await explicitAlsModel(30, 25, 9);
    await saveModel(join(dir, 'model'), als.model);
    const store = await openStore(`lmdb://${join(dir, 'store')}`);
    await publishModel(als.model, store, { progress: false });
    await store.close();
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  async function serve(port: number): Promise<ChildProcess> {
    const js = await transpileForChild(join(import.meta.dirname, 'test-support/serve-child.ts'));
    const child = spawnNode(js, [], { RTREC_STORE: `lmdb://${join(dir, 'store')}`, RTREC_PORT: String(port), RTREC_API_KEYS: KEY, RTREC_MODEL_DIR: join(dir, 'model'), RTREC_LOG_LEVEL: 'info' });
    children.push(child);
    await waitForLine(child, /rtrec serving/);
    return child;
  }

  it('loses no acknowledged event, and the restarted server serves the updated list', async () => {
    const port = await freePort();
    const child = await serve(port);
    const events = Array.from({ length: 5 }, (_, j) => ({ userId: 'killed-user', itemId: `i${j * 3}`, type: 'rating', value: 1 + j, eventId: `k${j}` }));
    const res = await fetch(`http://127.0.0.1:${port}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': KEY }, body: JSON.stringify({ events }) });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { applied: boolean; notApplied?: string };
    // The message carries the server's reason when the update was not applied.
    expect(body.applied, `not applied: ${body.notApplied}`).toBe(true);
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;

    const store = await openStore(`lmdb://${join(dir, 'store')}`);
    try {
      expect((await store.userEvents('killed-user')).map((e) => e.eventId)).toEqual(['k0', 'k1', 'k2', 'k3', 'k4']);
    } finally {
      await store.close();
    }
    const port2 = await freePort();
    const restarted = await serve(port2);
    const recs = (await (await fetch(`http://127.0.0.1:${port2}/v1/users/killed-user/recommendations?k=5`)).json()) as { source: string; items: { itemId: string }[] };
    expect(recs.source).toBe('personalized');
    const rated = new Map(events.map((e, j) => [j * 3, e.value]));
    expect(recs.items.map((i) => i.itemId)).toEqual(referenceFoldIn(als.itemFactors, 25, rated, 5).items.map((i) => `i${i}`));
    restarted.kill('SIGKILL');
  });
});
