/**
 * @module A team of worker threads for the dense SPD inverse. The calling thread is a member too: it
 * posts a region to the workers, runs the same region itself, then waits for every worker, so each
 * region ends with a barrier. It computes in slices of SLICE_MS and yields to the event loop between
 * them, so timers, progress bars and an abort (which stops every member at its next unit) go on.
 * Workers must load compiled JavaScript: next to this module when running from dist/, or, when this
 * module runs from src/ as TypeScript (vitest), the mirror path under dist/. When no compiled worker
 * is found, or it was built from other kernels, callers run in-process.
 */
import { existsSync } from 'node:fs';
import { sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { KERNEL_VERSION, runRegion, type DenseContext, type Region } from './dense-inverse-kernels.js';
import type { FromWorker, SharedContext, ToWorker, WorkerWasm } from './dense-inverse-worker.js';

const WORKER_FILE = 'dense-inverse-worker.js';

/** Longest the calling thread computes before letting the event loop run. */
export const SLICE_MS = 50;

/** Runs the calling thread's share of `region` in slices; resolves when it can claim no more units. */
async function runShare(ctx: DenseContext, region: Region): Promise<void> {
  while (!runRegion(ctx, region, performance.now() + SLICE_MS)) {
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** Where the compiled worker is, or null when there is none (then run in-process). */
export function resolveWorkerUrl(moduleUrl: string = import.meta.url): URL | null {
  const sibling = new URL(`./${WORKER_FILE}`, moduleUrl);
  if (sibling.protocol !== 'file:') return null;
  const path = fileURLToPath(sibling);
  if (existsSync(path)) return sibling;
  const marker = `${sep}src${sep}`;
  const at = path.lastIndexOf(marker);
  if (at < 0) return null;
  const mirrored = `${path.slice(0, at)}${sep}dist${sep}${path.slice(at + marker.length)}`;
  return existsSync(mirrored) ? pathToFileURL(mirrored) : null;
}

export interface DenseTeam {
  /** Threads taking part, the calling one included. */
  readonly size: number;
  /** Runs `region` on every member and resolves when all have finished it. */
  run(region: Region): Promise<void>;
  /** Ends the workers (idempotent). */
  close(): Promise<void>;
}

/** A team of one: the calling thread alone. */
export function soloTeam(ctx: DenseContext): DenseTeam {
  return {
    size: 1,
    run(region) {
      Atomics.store(ctx.counter, 0, 0);
      return runShare(ctx, region);
    },
    close: () => Promise.resolve(),
  };
}

interface Member {
  readonly worker: Worker;
  waiting: { resolve: (msg: FromWorker) => void; reject: (err: Error) => void } | null;
  failure: Error | null;
}

/**
 * Starts `workers` workers on the shared buffers of `ctx` (all its arrays must be backed by one or
 * more SharedArrayBuffers); worker w gets `wasm[w]` when the matrix is in wasm memory. Resolves to
 * null, after ending any started worker, when the worker script cannot be started or was compiled
 * from a different KERNEL_VERSION.
 */
export async function startTeam(
  ctx: DenseContext,
  workers: number,
  workerUrl: URL,
  wasm: readonly WorkerWasm[] | null,
): Promise<DenseTeam | null> {
  const members: Member[] = [];
  const closeAll = async (): Promise<void> => {
    await Promise.all(members.map((m) => m.worker.terminate()));
  };
  try {
    for (let w = 0; w < workers; w++) members.push(spawn(workerUrl));
    const shared: SharedContext = { a: ctx.a, n: ctx.n, lDiag: ctx.lDiag, pDiag: ctx.pDiag, counter: ctx.counter };
    const replies = await Promise.all(members.map((m, w) => ask(m, { kind: 'init', ctx: shared, wasm: wasm?.[w] ?? null })));
    if (replies.some((r) => r.kind !== 'ready' || r.version !== KERNEL_VERSION)) {
      await closeAll();
      return null;
    }
  } catch {
    await closeAll();
    return null;
  }
  let closed = false;
  return {
    size: workers + 1,
    async run(region) {
      Atomics.store(ctx.counter, 0, 0);
      const pending = members.map((m) => ask(m, { kind: 'run', region }));
      let own: Error | null = null;
      try {
        await runShare(ctx, region);
      } catch (err) {
        own = err instanceof Error ? err : new Error(String(err));
      }
      // Wait for every worker even after a failure here, so none still writes when we return.
      const replies = await Promise.allSettled(pending);
      if (own) throw own;
      for (const r of replies) {
        if (r.status === 'rejected') throw r.reason instanceof Error ? r.reason : new Error(String(r.reason));
        if (r.value.kind === 'failed') throw new Error(`dense-inverse worker failed: ${r.value.message}`);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await closeAll();
    },
  };
}

function spawn(url: URL): Member {
  const member: Member = { worker: new Worker(url), waiting: null, failure: null };
  const fail = (err: Error): void => {
    member.failure = err;
    const w = member.waiting;
    member.waiting = null;
    w?.reject(err);
  };
  member.worker.on('message', (msg: FromWorker) => {
    const w = member.waiting;
    member.waiting = null;
    w?.resolve(msg);
  });
  member.worker.on('error', fail);
  member.worker.on('exit', (code) => fail(new Error(`dense-inverse worker exited with code ${code}`)));
  return member;
}

function ask(member: Member, msg: ToWorker): Promise<FromWorker> {
  if (member.failure) return Promise.reject(member.failure);
  return new Promise((resolve, reject) => {
    member.waiting = { resolve, reject };
    member.worker.postMessage(msg);
  });
}
