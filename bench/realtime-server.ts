/**
 * @module Shared by the real-time benchmarks: one `rtrec serve` process configured as the image runs
 * it (realtime-target.ts, ONLINE_NODE_FLAGS), and the 50k-item model trained on generated behaviour.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { generateSynthetic } from '../src/data/synthetic.js';
import { publishModel } from '../src/jobs/publish.js';
import { trainModel } from '../src/jobs/train.js';
import type { TrainedModel } from '../src/models/trained-model.js';
import { serveNodeFlags } from '../src/serve/server.js';
import { openStore } from '../src/store/open-store.js';
import { freePort } from './serve-redis.js';

/** The node flags the image gives `rtrec serve` with a model folder (online updates on). */
export const ONLINE_NODE_FLAGS: readonly string[] = serveNodeFlags(true);

const TARGET_JS = fileURLToPath(new URL('./realtime-target.js', import.meta.url));

export interface ServerOptions {
  readonly store: string;
  /** RTREC_MODEL_DIR: the folder the server folds users in with. */
  readonly modelDir: string;
  readonly apiKey: string;
  readonly logLevel: string;
  /** RTREC_FOLD_THREADS; default: the server's default. */
  readonly foldThreads?: number;
}

/** Starts `rtrec serve` on a free port and waits until /readyz answers 200. */
export async function startServer(o: ServerOptions): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const env = { ...process.env, RTREC_STORE: o.store, RTREC_PORT: String(port), RTREC_API_KEYS: o.apiKey, RTREC_MODEL_DIR: o.modelDir, RTREC_LOG_LEVEL: o.logLevel, ...(o.foldThreads === undefined ? {} : { RTREC_FOLD_THREADS: String(o.foldThreads) }) };
  // With the serving node flags, as the image runs `rtrec serve`.
  const child = spawn(process.execPath, [...ONLINE_NODE_FLAGS, TARGET_JS], { stdio: ['ignore', 'ignore', 'inherit'], env });
  const started = Date.now();
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200) return { port, child };
    } catch {
      // not listening yet
    }
    if (Date.now() - started > 60_000) throw new Error('rtrec serve did not become ready');
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function stopServer(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/**
 * Implicit ALS trained on generated behaviour over the catalogue (generateSynthetic: Zipf item
 * popularity, planted preferences): factors shaped like a production model's, unlike random ones.
 */
export async function trainedSynthetic(items: number, users: number): Promise<TrainedModel> {
  process.stderr.write(`training implicit ALS on ${users} generated users × ${items} items…\n`);
  const data = generateSynthetic({ numUsers: users, numItems: items, numInteractions: users * 50, rank: 16, seed: 5 });
  return trainModel(data, { type: 'ials', hyperParameters: { rank: 32 } });
}

/** Publishes `model` to the store at `url` as its active version (each run gets a store of its own). */
export async function publishFresh(model: TrainedModel, url: string): Promise<void> {
  const store = await openStore(url);
  try {
    await publishModel(model, store, { progress: false });
  } finally {
    await store.close();
  }
}

/** Milliseconds for the tables; '-' when nothing was measured. */
export const ms = (x: number): string => (Number.isNaN(x) ? '-' : x.toFixed(2));
