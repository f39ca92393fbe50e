/**
 * @module Builds a real app over a real store for HTTP tests: a fixture model published to a fresh
 * LMDB folder (or a given store URL), and an app with test-friendly configuration (no logs, fast
 * version refresh). Also a reference of what the API must answer, computed from the model directly.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { float32Text } from '../../core/float32-text.js';
import { publishModel } from '../../jobs/publish.js';
import type { TrainedModel } from '../../models/trained-model.js';
import type { OnlineStore } from '../../store/online-store.js';
import { openStore, type OpenStoreOptions } from '../../store/open-store.js';
import { buildApp, type BuildAppOptions } from '../app.js';
import type { RtrecApp } from '../app-types.js';
import { loadServeConfig, type ServeConfig } from '../config.js';

export const TOP_K = 100;
export const SIMILAR_K = 20;

export interface ServeFixture {
  readonly app: RtrecApp;
  readonly store: OnlineStore;
  readonly url: string;
  close(): Promise<void>;
}

/** A fresh LMDB store URL in a temporary folder, and its cleanup. */
export async function tempLmdbUrl(): Promise<{ url: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'rtrec-serve-'));
  return { url: `lmdb://${dir}`, remove: () => rm(dir, { recursive: true, force: true }) };
}

export function testConfig(flags: Partial<ServeConfig> = {}): Readonly<ServeConfig> {
  return loadServeConfig({ env: {}, flags: { refreshMs: 50, logLevel: 'silent', ...flags } });
}

/**
 * Publishes `models` in order (the last one active) to the store at `url` (default: a new LMDB
 * folder) and builds an app over it.
 */
export async function serveFixture(
  models: readonly TrainedModel[],
  options: { url?: string; config?: Partial<ServeConfig>; storeOptions?: OpenStoreOptions; logger?: BuildAppOptions['logger']; models?: BuildAppOptions['models']; now?: BuildAppOptions['now']; ingestThread?: { entry?: URL | null } } = {},
): Promise<ServeFixture> {
  const temp = options.url ? undefined : await tempLmdbUrl();
  const url = options.url ?? temp!.url;
  const publisher = await openStore(url);
  for (const m of models) await publishModel(m, publisher, { topK: TOP_K, similarK: SIMILAR_K, progress: false });
  await publisher.close();
  const store = await openStore(url, options.storeOptions);
  const app = await buildApp({ store, config: testConfig(options.config), logger: options.logger ?? false, ...(options.models ? { models: options.models } : {}), ...(options.now ? { now: options.now } : {}), ...(options.ingestThread ? { ingestThread: { ...options.ingestThread, storeUrl: url } } : {}) });
  await untilReady(app);
  return {
    app,
    store,
    url,
    async close() {
      await app.close();
      await store.close();
      await temp?.remove();
    },
  };
}

/**
 * Waits for /readyz to answer 200 (store connected, active version loaded): a store opened with a
 * background connection may still be connecting, most of all on a loaded 2-core CI machine.
 */
async function untilReady(app: RtrecApp, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    if (res.statusCode === 200) return;
    if (Date.now() > until) throw new Error(`the test app was not ready after ${timeoutMs} ms: ${res.body}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * A model score as answers carry it: the float32 written with 9 significant digits, read back as a
 * JSON number (float32-text.ts proves that text exact; here it fixes what the API must print).
 */
export function servedScore(score: number): number {
  return Number(float32Text(score));
}

/** What GET /v1/users/:id/recommendations must list for a known user: item ids and scores. */
export function expectedUserItems(model: TrainedModel, userId: string, k: number, only?: Int32Array): { itemId: string; score: number }[] {
  const u = model.users.indexOf(userId);
  const r = model.recommend(u, { k, excludeSeen: true, ...(only ? { filter: { only } } : {}) });
  return [...r.items].map((i, j) => ({ itemId: model.items.idOf(i), score: servedScore(r.scores[j]) }));
}
