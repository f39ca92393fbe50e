import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRedis, startRedis, type RedisServer } from '../../test/support/redis-server.js';
import { explicitAlsModel, referenceFoldIn, type ExplicitAls } from '../events/test-support/explicit-als.js';
import { publishModel } from '../jobs/publish.js';
import { saveModel } from '../models/model-io.js';
import { openStore } from '../store/open-store.js';
import { lineSink, type LineSink } from './test-support/line-sink.js';
import { serveFixture, TOP_K, type ServeFixture } from './test-support/serve-fixture.js';

const KEY = 'ingest-key-0123456789';
const headers = { 'x-api-key': KEY };

interface Recs {
  modelVersion: number;
  source: string;
  items: { itemId: string }[];
}

const ids = (r: { items: number[] }) => r.items.map((i) => `i${i}`);

/** A model folder holding `als`'s model, and its cleanup. */
async function modelFolder(als: ExplicitAls): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'rtrec-ingest-model-'));
  await saveModel(dir, als.model);
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

function helpers(fx: () => ServeFixture) {
  return {
    post: (payload: Record<string, unknown>) => fx().app.inject({ method: 'POST', url: '/v1/events', headers, payload }),
    recs: async (userId: string) => (await fx().app.inject({ method: 'GET', url: `/v1/users/${userId}/recommendations?k=10` })).json<Recs>(),
  };
}

/** Log records written from the ingest thread (forwarded through the app's logger). */
const fromThread = (sink: LineSink) => sink.records().filter((r) => r.thread === 'event-ingest');

describe('POST /v1/events on the event-ingest thread (LMDB)', () => {
  let als: ExplicitAls;
  let folder: { dir: string; remove: () => Promise<void> };
  let fx: ServeFixture;
  const sink = lineSink();
  const { post, recs } = helpers(() => fx);
  beforeAll(async () => {
    als = await explicitAlsModel(40, 30, 5);
    folder = await modelFolder(als);
    fx = await serveFixture([als.model], { config: { apiKeys: [KEY], modelDir: folder.dir }, logger: { level: 'info', stream: sink.stream }, ingestThread: {} });
  }, 60_000);
  afterAll(async () => {
    await fx?.close();
    await folder?.remove();
  });

  it('runs the updater on the thread: its log lines come through the app\u2019s logger', async () => {
    expect(sink.text()).not.toMatch(/did not start/);
    // The thread's catch-up of the version it found at start, logged when done.
    for (let i = 0; fromThread(sink).length === 0; i++) {
      if (i > 250) throw new Error(`no log line from the thread: ${sink.text()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(fromThread(sink).map((r) => r.msg)).toContain('recomputed users with events');
  });

  it('read-your-writes: the 202 comes once the thread wrote the fold-in of the ratings, and the next read shows it', async () => {
    expect((await recs('thread-user')).source).toBe('popular');
    const res = await post({ events: [{ userId: 'thread-user', itemId: 'i3', type: 'rating', value: 5 }, { userId: 'thread-user', itemId: 'i8', type: 'rating', value: 2 }] });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ accepted: 2, duplicates: 0, rejected: 0, applied: true, modelVersion: 1 });
    const after = await recs('thread-user');
    expect(after.source).toBe('personalized');
    expect(after.items.map((i) => i.itemId)).toEqual(ids(referenceFoldIn(als.itemFactors, 30, new Map([[3, 5], [8, 2]]), 10)));
  });

  it('answers a retried eventId as a duplicate, and rejects invalid events before the thread sees them', async () => {
    const event = { userId: 'retrier', itemId: 'i4', type: 'rating', value: 4, eventId: 'thread-retry-1' };
    expect((await post(event)).json()).toMatchObject({ accepted: 1, duplicates: 0 });
    expect((await post(event)).json()).toMatchObject({ accepted: 0, duplicates: 1, applied: true });
    const bad = await post({ userId: 'retrier', itemId: 'i4', type: 'teleport' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'RTREC_ERR_EVENT_INVALID' });
    expect((await fx.store.userEvents('retrier')).map((e) => e.eventId)).toEqual(['thread-retry-1']);
  });

  it('writes into the version the app serves after a switch (published by another process)', async () => {
    const publisher = await openStore(fx.url);
    try {
      // The same model again: version 2, which the model folder also matches.
      await publishModel(als.model, publisher, { topK: TOP_K, similarK: 20, progress: false });
    } finally {
      await publisher.close();
    }
    for (let i = 0; (await recs('nobody-yet')).modelVersion !== 2; i++) {
      if (i > 200) throw new Error('the app did not switch to version 2');
      await new Promise((r) => setTimeout(r, 20));
    }
    const res = await post({ userId: 'after-switch', itemId: 'i5', type: 'rating', value: 5 });
    expect(res.json()).toMatchObject({ applied: true, modelVersion: 2 });
    const after = await recs('after-switch');
    expect(after).toMatchObject({ modelVersion: 2, source: 'personalized' });
    expect(after.items.map((i) => i.itemId)).toEqual(ids(referenceFoldIn(als.itemFactors, 30, new Map([[5, 5]]), 10)));
  });
});

describe('POST /v1/events when the event-ingest thread cannot start or stops', () => {
  let als: ExplicitAls;
  let folder: { dir: string; remove: () => Promise<void> };
  let scratch: string;
  beforeAll(async () => {
    als = await explicitAlsModel(40, 30, 6);
    folder = await modelFolder(als);
    scratch = await mkdtemp(join(tmpdir(), 'rtrec-ingest-entry-'));
  }, 60_000);
  afterAll(async () => {
    await folder?.remove();
    await rm(scratch, { recursive: true, force: true });
  });

  it('ingests on the event loop, with a warning, when the thread does not start', async () => {
    const sink = lineSink();
    const fx = await serveFixture([als.model], {
      config: { apiKeys: [KEY], modelDir: folder.dir },
      logger: { level: 'info', stream: sink.stream },
      ingestThread: { entry: pathToFileURL(join(scratch, 'missing-worker.mjs')) },
    });
    try {
      expect(sink.records().some((r) => r.level === 40 && /event-ingest thread did not start/.test(String(r.msg)))).toBe(true);
      const { post, recs } = helpers(() => fx);
      expect((await post({ userId: 'local-user', itemId: 'i2', type: 'rating', value: 5 })).json()).toMatchObject({ applied: true });
      expect((await recs('local-user')).items.map((i) => i.itemId)).toEqual(ids(referenceFoldIn(als.itemFactors, 30, new Map([[2, 5]]), 10)));
    } finally {
      await fx.close();
    }
  });

  it('fails the requests a dying thread held with a 503 to retry, then ingests on the event loop', async () => {
    // A stand-in thread: ready at once, and exits on its first ingest.
    const dying = join(scratch, 'dying-worker.mjs');
    await writeFile(dying, "import { parentPort } from 'node:worker_threads';\nparentPort.on('message', (m) => { if (m.type === 'ingest') process.exit(3); });\nparentPort.postMessage({ type: 'ready' });\n");
    const sink = lineSink();
    const fx = await serveFixture([als.model], {
      config: { apiKeys: [KEY], modelDir: folder.dir },
      logger: { level: 'info', stream: sink.stream },
      ingestThread: { entry: pathToFileURL(dying) },
    });
    try {
      const { post, recs } = helpers(() => fx);
      const event = { userId: 'orphan', itemId: 'i7', type: 'rating', value: 5, eventId: 'orphan-1' };
      const failed = await post(event);
      expect(failed.statusCode).toBe(503);
      expect(failed.json()).toMatchObject({ code: 'RTREC_ERR_EVENT_INGEST_FAILED' });
      expect(failed.json<{ message: string }>().message).toMatch(/Retry with the same eventIds/);
      // The log says why, under the request id; and that the app ingests on its event loop now.
      expect(sink.text()).toMatch(/the event-ingest thread stopped \(it exited with code 3\) while logging these events/);
      expect(sink.records().some((r) => r.level === 50 && /event-ingest thread stopped: events are ingested on the event loop/.test(String(r.msg)))).toBe(true);
      const retried = await post(event);
      expect(retried.statusCode).toBe(202);
      expect(retried.json()).toMatchObject({ accepted: 1, applied: true });
      expect((await recs('orphan')).items.map((i) => i.itemId)).toEqual(ids(referenceFoldIn(als.itemFactors, 30, new Map([[7, 5]]), 10)));
    } finally {
      await fx.close();
    }
  });

  it('starts no thread without a model folder: events are logged on the event loop', async () => {
    // A stand-in thread that leaves a mark when started.
    const mark = join(scratch, 'started');
    const marking = join(scratch, 'marking-worker.mjs');
    await writeFile(marking, `import { writeFileSync } from 'node:fs';\nimport { parentPort } from 'node:worker_threads';\nwriteFileSync(${JSON.stringify(mark)}, '1');\nparentPort.postMessage({ type: 'ready' });\n`);
    const fx = await serveFixture([als.model], { config: { apiKeys: [KEY] }, ingestThread: { entry: pathToFileURL(marking) } });
    try {
      const res = await helpers(() => fx).post({ userId: 'no-model-user', itemId: 'i2', type: 'click', eventId: 'no-model-1' });
      expect(res.statusCode).toBe(202);
      expect(res.json()).toMatchObject({ accepted: 1, applied: false });
      expect((await fx.store.userEventsAfter('no-model-user')).events.map((e) => e.eventId)).toEqual(['no-model-1']);
      await expect(stat(mark)).rejects.toThrow(/ENOENT/);
    } finally {
      await fx.close();
    }
    // The same stand-in does start when there is a model folder (so the check above can fail).
    const withModel = await serveFixture([als.model], { config: { apiKeys: [KEY], modelDir: folder.dir }, ingestThread: { entry: pathToFileURL(marking) } });
    await withModel.close();
    expect((await stat(mark)).isFile()).toBe(true);
  });
});

describeRedis('POST /v1/events on the event-ingest thread (Redis)', () => {
  let server: RedisServer;
  let als: ExplicitAls;
  let folder: { dir: string; remove: () => Promise<void> };
  let fx: ServeFixture;
  const sink = lineSink();
  const { post, recs } = helpers(() => fx);
  beforeAll(async () => {
    server = await startRedis();
    als = await explicitAlsModel(40, 30, 7);
    folder = await modelFolder(als);
    const url = `${server.url}?prefix=ingest`;
    fx = await serveFixture([als.model], { url, config: { apiKeys: [KEY], modelDir: folder.dir }, logger: { level: 'info', stream: sink.stream }, ingestThread: {} });
  }, 60_000);
  afterAll(async () => {
    await fx?.close();
    await folder?.remove();
    await server?.destroy();
  });

  it('read-your-writes through the thread\u2019s own connection', async () => {
    expect(sink.text()).not.toMatch(/did not start/);
    expect((await recs('redis-thread-user')).source).toBe('popular');
    expect((await post({ userId: 'redis-thread-user', itemId: 'i9', type: 'rating', value: 5 })).json()).toMatchObject({ applied: true, modelVersion: 1 });
    const after = await recs('redis-thread-user');
    expect(after.source).toBe('personalized');
    expect(after.items.map((i) => i.itemId)).toEqual(ids(referenceFoldIn(als.itemFactors, 30, new Map([[9, 5]]), 10)));
  });
});
