import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { open } from 'lmdb';
import { afterAll, describe, expect, it } from 'vitest';
import { runOnlineStoreContract } from './online-store.contract.js';
import { LMDB_ENV_OPTIONS, LMDB_MAP_SIZE, lmdbMapSize } from './lmdb-env-options.js';
import { lmdbPath, openStore } from './open-store.js';
import { resolveWorkerEntry } from '../math/worker-pool.js';
import { transpileForChild, waitForLine } from '../serve/test-support/ts-child.js';
import type { Ranked } from '../models/recommender.js';

const dirs: string[] = [];
async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rtrec-lmdb-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('LMDB online store (contract)', () => {
  runOnlineStoreContract({ freshUrl: async () => `lmdb://${await freshDir()}` });
});

// Every fallback to the event loop fails the test: the contract must hold on the thread itself.
const fallbacks: string[] = [];
describe('LMDB online store with the append thread (contract)', () => {
  runOnlineStoreContract({ freshUrl: async () => `lmdb://${await freshDir()}` }, { appendThread: true, onAppendFallback: (reason) => fallbacks.push(reason) });
  it('never fell back to the event loop', () => {
    expect(fallbacks).toEqual([]);
  });
});

const inlineFallbacks: string[] = [];
describe('LMDB online store with the append thread and small appends inline (contract)', () => {
  runOnlineStoreContract({ freshUrl: async () => `lmdb://${await freshDir()}` }, { appendThread: true, inlineAppendsUpTo: 2, onAppendFallback: (reason) => inlineFallbacks.push(reason) });
  it('never fell back to the event loop', () => {
    expect(inlineFallbacks).toEqual([]);
  });
});

describe('LMDB append thread', () => {
  const view = (eventId: string, userId: string) => ({ eventId, userId, itemId: 'item-1', type: 'view', ts: 1_000 });
  const ranked = (items: number[], scores: number[]): Ranked => ({ items: Int32Array.from(items), scores: Float32Array.from(scores) });

  async function publishedStore(options: Parameters<typeof openStore>[1]) {
    const url = `lmdb://${await freshDir()}`;
    const store = await openStore(url, options);
    const w = await store.beginVersion({ expected: {} });
    await w.putPopular(ranked([0], [1]));
    await w.putCatalog([{ idx: 0, itemId: 'item-0', metadata: null }]);
    return { store, version: (await w.commit()).version };
  }

  it('has its compiled worker entry (npm test builds first)', () => {
    expect(resolveWorkerEntry('./lmdb-append-worker.js', new URL('./lmdb-store.ts', import.meta.url).href)).not.toBeNull();
  });

  it('shows the lists an append wrote to the very next read, without waiting for a new event-loop turn', async () => {
    const { store, version } = await publishedStore({ appendThread: true });
    try {
      for (let j = 0; j < 30; j++) {
        // The read before opens lmdb-js's read snapshot; without a renewal after the thread's commit,
        // the read after would still see the list before.
        expect((await store.getUserRecs(version, 'ann'))?.items[0]).toBe(j === 0 ? undefined : j - 1);
        const cursor = (await store.userEventsAfter('ann')).cursor;
        const res = await store.appendEvents([view(`e${j}`, 'ann')], { lists: { version, users: new Map([['ann', { cursor, ranked: ranked([j], [1]) }]]) } });
        expect(res[0].listWritten).toBe(true);
        expect((await store.getUserRecs(version, 'ann'))?.items[0]).toBe(j);
      }
    } finally {
      await store.close();
    }
  });

  it('waits for appends in flight when the store closes', async () => {
    const dir = await freshDir();
    const store = await openStore(`lmdb://${dir}`, { appendThread: true });
    const appends = Array.from({ length: 20 }, (_, j) => store.appendEvents(Array.from({ length: 50 }, (_, k) => view(`e${j}-${k}`, `user-${k}`))));
    await store.close();
    expect((await Promise.all(appends)).flat().filter((r) => !r.duplicate)).toHaveLength(1_000);
    const reopened = await openStore(`lmdb://${dir}`);
    expect((await reopened.userEvents('user-7')).length).toBe(20);
    await reopened.close();
  });

  it('runs small appends on the calling thread while the append thread holds none, the others on the thread', async () => {
    const dir = await freshDir();
    // Reports ready, then holds every append without answering (and answers the close request).
    const holding = join(dir, 'holding-worker.mjs');
    await writeFile(
      holding,
      "import { parentPort } from 'node:worker_threads';\n"
        + "parentPort.on('message', (m) => { if (m.close) { parentPort.postMessage({ id: m.id, closed: true }); process.exit(0); } });\n"
        + "parentPort.postMessage({ id: -1, ready: true });\n",
    );
    const told: string[] = [];
    const store = await openStore(`lmdb://${join(dir, 's')}`, { appendThread: true, appendThreadEntry: pathToFileURL(holding), inlineAppendsUpTo: 3, onAppendFallback: (r) => told.push(r) });
    const settled = (p: Promise<unknown>) => Promise.race([p.then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), 150))]);
    try {
      // Small, the thread idle: logged here.
      expect((await store.appendEvents([view('s1', 'ann'), view('s2', 'ann'), view('s3', 'bob')])).map((r) => r.duplicate)).toEqual([false, false, false]);
      // Larger: the thread takes it (and holds it).
      const large = store.appendEvents([view('l1', 'cat'), view('l2', 'cat'), view('l3', 'cat'), view('l4', 'cat')]);
      expect(await settled(large)).toBe(false);
      // Small, but the thread holds an append: it queues there too.
      const queued = store.appendEvents([view('s4', 'dan')]);
      expect(await settled(queued)).toBe(false);
      expect((await store.userEvents('ann')).map((e) => e.eventId)).toEqual(['s1', 's2']);
      expect(await store.userEvents('cat')).toEqual([]);
      expect(await store.userEvents('dan')).toEqual([]);
      expect(told).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('logs every append, in call order, when small ones run beside the thread and the store closes with some in flight', async () => {
    const dir = await freshDir();
    const store = await openStore(`lmdb://${dir}`, { appendThread: true, inlineAppendsUpTo: 1 });
    // Alternating sizes: single events run here while the thread is idle, the others take it.
    const appends = Array.from({ length: 20 }, (_, j) => store.appendEvents(Array.from({ length: j % 2 === 0 ? 1 : 49 }, (_, k) => view(`e${j}-${k}`, k === 0 ? 'first' : `user-${k}`))));
    await store.close();
    expect((await Promise.all(appends)).flat().filter((r) => !r.duplicate)).toHaveLength(500);
    const reopened = await openStore(`lmdb://${dir}`);
    expect((await reopened.userEvents('first')).map((e) => e.eventId)).toEqual(Array.from({ length: 20 }, (_, j) => `e${j}-0`));
    expect((await reopened.userEvents('user-7')).length).toBe(10);
    await reopened.close();
  });

  it('appends on the event loop, with a reason, when the thread does not start or dies; an append it held fails as unknown', async () => {
    const dir = await freshDir();
    const broken = join(dir, 'broken-worker.mjs');
    await writeFile(broken, "throw new Error('no such thing');\n");
    const reasons: string[] = [];
    const a = await openStore(`lmdb://${join(dir, 'a')}`, { appendThread: true, appendThreadEntry: pathToFileURL(broken), onAppendFallback: (r) => reasons.push(r) });
    // The thread starts with the first append: a store that only reads never tries.
    expect(await a.activeVersion()).toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(reasons).toEqual([]);
    expect((await a.appendEvents([view('e1', 'ann')]))[0].duplicate).toBe(false);
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatch(/did not start, appending on the event loop: no such thing/);
    await a.close();

    // As lmdb-append-worker does when it cannot open the store: says why, then throws. Told once.
    const openFails = join(dir, 'open-fails-worker.mjs');
    await writeFile(openFails, "import { parentPort } from 'node:worker_threads';\nparentPort.postMessage({ id: -1, error: 'cannot open /x: denied' });\nthrow new Error('denied');\n");
    const told: string[] = [];
    const d = await openStore(`lmdb://${join(dir, 'd')}`, { appendThread: true, appendThreadEntry: pathToFileURL(openFails), onAppendFallback: (r) => told.push(r) });
    expect((await d.appendEvents([view('e1', 'ann')]))[0].duplicate).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(told).toEqual(['the LMDB append thread did not start, appending on the event loop: cannot open /x: denied']);
    await d.close();

    // Reports ready, then exits on its first append, before logging anything.
    const dying = join(dir, 'dying-worker.mjs');
    await writeFile(dying, "import { parentPort } from 'node:worker_threads';\nparentPort.on('message', () => process.exit(3));\nparentPort.postMessage({ id: -1, ready: true });\n");
    const died: string[] = [];
    const b = await openStore(`lmdb://${join(dir, 'b')}`, { appendThread: true, appendThreadEntry: pathToFileURL(dying), onAppendFallback: (r) => died.push(r) });
    await expect(b.appendEvents([view('e1', 'ann')])).rejects.toMatchObject({ code: 'RTREC_ERR_STORE_UNAVAILABLE', message: /unknown.*same eventIds is safe/ });
    expect(died.join()).toMatch(/append thread stopped, appending on the event loop: exit code 3/);
    // The retry runs on the event loop and logs the event once.
    expect((await b.appendEvents([view('e1', 'ann')]))[0].duplicate).toBe(false);
    expect((await b.appendEvents([view('e1', 'ann')]))[0].duplicate).toBe(true);
    await b.close();
  });
});

describe('LMDB lists written only when current', () => {
  it('refuses a list once the user\u2019s log moved past its cursor, even before anyone wrote a newer list', async () => {
    const store = await openStore(`lmdb://${await freshDir()}`);
    try {
      const w = await store.beginVersion({ expected: { u: 0, c: 1 } });
      await w.putCatalog([{ idx: 0, itemId: 'item-0', metadata: null }]);
      await w.putPopular({ items: Int32Array.of(0), scores: Float32Array.of(1) });
      const { version } = await w.commit();
      const [e] = await store.appendEvents([{ eventId: 'x1', userId: 'busy', itemId: 'item-0', type: 'view', ts: 1 }]);
      const list = { subjectId: 'busy', ranked: { items: Int32Array.of(0), scores: Float32Array.of(1) }, cursor: e.userCursor!.after };
      await store.appendEvents([{ eventId: 'x2', userId: 'busy', itemId: 'item-0', type: 'click', ts: 2 }]);
      expect(await store.putUserRecsIfCurrent(version, [list])).toEqual(new Set(['busy']));
      expect(await store.getUserRecs(version, 'busy')).toBeUndefined();
    } finally {
      await store.close();
    }
  });
});

describe('LMDB store URLs', () => {
  it('resolves relative folders against the working directory and keeps absolute ones', () => {
    expect(lmdbPath('lmdb:///var/lib/rtrec')).toBe('/var/lib/rtrec');
    expect(lmdbPath('lmdb://data/store')).toBe(join(process.cwd(), 'data/store'));
  });

  it('rejects an empty path and unknown schemes', async () => {
    expect(() => lmdbPath('lmdb://')).toThrow(/names no folder/);
    expect(() => lmdbPath('lmdb:///tmp/100%zz')).toThrow(expect.objectContaining({ code: 'RTREC_ERR_CONFIG_INVALID', message: expect.stringMatching(/malformed %-escape/) as string }) as Error);
    await expect(openStore('mysql://user:hunter2@x')).rejects.toThrow(/mysql:\/\/user:\*\*\*@x/);
    await expect(openStore('mysql://x')).rejects.toMatchObject({ code: 'RTREC_ERR_CONFIG_INVALID' });
  });

  it('creates the folder and survives reopening', async () => {
    const dir = join(await freshDir(), 'nested', 'store');
    const a = await openStore(`lmdb://${dir}`);
    const w = await a.beginVersion({ expected: {} });
    await w.putPopular({ items: Int32Array.of(0), scores: Float32Array.of(1.5) });
    await w.putCatalog([{ idx: 0, itemId: 'x', metadata: null }]);
    await w.commit();
    await a.close();
    const b = await openStore(`lmdb://${dir}`);
    expect(await b.activeVersion()).toBe(1);
    expect(await b.getPopular(1)).toEqual({ items: Int32Array.of(0), scores: Float32Array.of(1.5) });
    await b.close();
  });
});

describe('LMDB memory map', () => {
  // Growing the map from two threads at once crashed the process (see lmdb-env-options.ts).
  it('is reserved whole when the store opens, and does not grow as the store fills', async () => {
    const dir = await freshDir();
    const store = await openStore(`lmdb://${dir}`, { appendThread: true });
    // Another handle in this process shares the store's environment (lmdb-js opens one per file).
    const shared = open({ path: join(dir, 'rtrec.mdb'), noSubdir: true, maxDbs: 4 });
    try {
      expect(shared.getStats()).toMatchObject({ mapSize: LMDB_ENV_OPTIONS.mapSize });
      for (let b = 0; b < 20; b++) {
        await store.appendEvents(Array.from({ length: 200 }, (_, i) => ({ eventId: `e-${b}-${i}`, userId: `user-${i % 50}`, itemId: `item-${'x'.repeat(200)}-${i}`, type: 'view', ts: 1_000 + b })));
      }
      const stats = shared.getStats() as { mapSize: number; lastPageNumber: number; pageSize: number };
      // Past lmdb-js's own starting map (128 KiB), which it would have grown by now.
      expect((stats.lastPageNumber + 1) * stats.pageSize).toBeGreaterThan(128 * 1024);
      expect(stats.mapSize).toBe(LMDB_ENV_OPTIONS.mapSize);
    } finally {
      await shared.close();
      await store.close();
    }
  });

  it('is a quarter of the address-space limit when that is smaller, else 256 GiB', () => {
    const limits = (soft: string) => `Limit                     Soft Limit           Hard Limit           Units     \nMax address space         ${soft.padEnd(20)} unlimited            bytes     \n`;
    expect(lmdbMapSize(limits('unlimited'))).toBe(LMDB_MAP_SIZE);
    expect(lmdbMapSize(limits(String(40 * 2 ** 30)))).toBe(10 * 2 ** 30);
    expect(lmdbMapSize(limits(String(4_000_000_000)))).toBe(Math.floor(1_000_000_000 / 2 ** 20) * 2 ** 20);
    expect(lmdbMapSize(limits(String(2 ** 42)))).toBe(LMDB_MAP_SIZE);
    expect(lmdbMapSize(undefined)).toBe(LMDB_MAP_SIZE);
  });

  // lmdb-js crashed (SIGSEGV) opening a store whose map did not fit under `ulimit -v`.
  it('opens and appends in a process whose address space is limited below the reserved map', async () => {
    const dir = await freshDir();
    const js = await transpileForChild(join(import.meta.dirname, 'test-support/append-child.ts'));
    const limitKiB = 40 * 2 ** 20; // 40 GiB
    const child = spawn('bash', ['-c', `ulimit -v ${limitKiB} && exec "$0" "$@"`, process.execPath, js, `lmdb://${dir}`, 'a', '300', 'thread', '10'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const line = await waitForLine(child, /^(appended|failed) /, 30_000);
    expect(line).toMatch(/^appended [1-9]/);
  }, 40_000);
});

describe('LMDB item counters', () => {
  it('indexes a bucket written before the value index on its next add, keeping every counter', async () => {
    const dir = await freshDir();
    // Counters as stores before the index wrote them: only ['pc', bucket + US + itemId] → value.
    const env = open({ path: join(dir, 'rtrec.mdb'), maxDbs: 4, noSubdir: true });
    const events = env.openDB({ name: 'events', encoding: 'json' });
    await events.transaction(() => {
      for (const [itemId, value] of [['a', 3], ['b', 7], ['c', 3], ['d', 1]] as const) void events.put(['pc', `old\u001f${itemId}`], value);
    });
    await env.close();

    const store = await openStore(`lmdb://${dir}`);
    try {
      expect(await store.topItemCounters('old', 3)).toEqual([{ itemId: 'b', value: 7 }, { itemId: 'a', value: 3 }, { itemId: 'c', value: 3 }]);
      await store.addItemCounters('old', new Map([['d', 5], ['e', 2]]), 60_000);
      expect(await store.topItemCounters('old', 10)).toEqual([
        { itemId: 'b', value: 7 },
        { itemId: 'd', value: 6 },
        { itemId: 'a', value: 3 },
        { itemId: 'c', value: 3 },
        { itemId: 'e', value: 2 },
      ]);
      await store.addItemCounters('old', new Map([['b', 0.5]]), 60_000);
      expect(await store.topItemCounters('old', 2)).toEqual([{ itemId: 'b', value: 7.5 }, { itemId: 'd', value: 6 }]);
    } finally {
      await store.close();
    }
  });
});
