/**
 * @module A small pool of worker threads that run independent tasks (row ranges of a half-step)
 * with dynamic dispatch: each idle worker takes the next task, so uneven rows balance out. Workers
 * are compiled JS: when running from TypeScript sources (tests), the entry file is looked up in the
 * mirrored `dist/` build. An in-process executor with the same interface serves `threads: 1` and the
 * fallback when no compiled entry exists.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, parentPort, workerData } from 'node:worker_threads';

/** Runs tasks and returns their results in task order. */
export interface TaskExecutor<Task, Result> {
  /** Number of tasks that can run at once. */
  readonly parallelism: number;
  run(tasks: readonly Task[]): Promise<Result[]>;
  /** Stops the workers (idempotent); the executor cannot be used afterwards. */
  close(): Promise<void>;
}

interface Reply<Result> {
  readonly id: number;
  readonly result?: Result;
  readonly error?: string;
  readonly ready?: boolean;
}

/**
 * The compiled worker entry for `relative` next to the module at `base` (an import.meta.url). From
 * `src/x/y.ts` this is `dist/x/<relative>`; null when that file does not exist (not built yet).
 */
export function resolveWorkerEntry(relative: string, base: string): URL | null {
  let url = new URL(relative, base);
  if (base.endsWith('.ts')) {
    const path = fileURLToPath(url);
    const at = path.lastIndexOf('/src/');
    if (at < 0) return null;
    url = pathToFileURL(`${path.slice(0, at)}/dist/${path.slice(at + 5)}`);
  }
  return existsSync(fileURLToPath(url)) ? url : null;
}

/** Runs every task on the calling thread with `handler`. */
export function createInlineExecutor<Task, Result>(handler: (task: Task) => Result): TaskExecutor<Task, Result> {
  return {
    parallelism: 1,
    run: (tasks) => Promise.resolve(tasks.map(handler)),
    close: () => Promise.resolve(),
  };
}

/**
 * Starts `size` workers from `entry` (each gets `{ ...data, threadIndex }` as workerData) and waits
 * until every one reports ready. Rejects, and stops the workers, if one fails to start.
 */
export async function createWorkerPool<Task, Result>(
  entry: URL,
  size: number,
  data: Record<string, unknown>,
): Promise<TaskExecutor<Task, Result>> {
  const workers: Worker[] = [];
  let closed = false;
  let failure: Error | null = null;
  // Per worker: the callback waiting on its current message.
  const waiting: ((reply: Reply<Result> | Error) => void)[] = [];

  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await Promise.all(workers.map((w) => w.terminate()));
  };

  const send = (w: number, message: unknown): Promise<Reply<Result>> =>
    new Promise((resolve, reject) => {
      if (failure) return reject(failure);
      waiting[w] = (reply) => (reply instanceof Error ? reject(reply) : resolve(reply));
      if (message !== undefined) workers[w].postMessage(message);
    });

  for (let w = 0; w < size; w++) {
    const worker = new Worker(entry, { workerData: { ...data, threadIndex: w } });
    worker.on('message', (reply: Reply<Result>) => waiting[w]?.(reply));
    const fail = (err: Error): void => {
      failure ??= err;
      waiting[w]?.(err);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (!closed) fail(new Error(`worker ${w} exited with code ${code}`));
    });
    workers.push(worker);
  }
  try {
    await Promise.all(workers.map((_, w) => send(w, undefined)));
  } catch (err) {
    await close();
    throw err;
  }

  const run = async (tasks: readonly Task[]): Promise<Result[]> => {
    if (closed) throw new Error('worker pool is closed');
    const results = new Array<Result>(tasks.length);
    let next = 0;
    const drive = async (w: number): Promise<void> => {
      while (next < tasks.length) {
        const id = next++;
        const reply = await send(w, { id, task: tasks[id] });
        if (reply.error !== undefined) throw new Error(reply.error);
        results[id] = reply.result as Result;
      }
    };
    await Promise.all(workers.map((_, w) => drive(w)));
    return results;
  };

  return { parallelism: size, run, close };
}

/**
 * The worker side: builds a handler from workerData, reports ready, then answers each task. Call it
 * once at the top level of a worker entry module.
 */
export function serveWorkerTasks<Task, Result>(init: (data: Record<string, unknown>) => (task: Task) => Result): void {
  const port = parentPort;
  if (!port) throw new Error('serveWorkerTasks must run inside a worker thread');
  const handler = init(workerData as Record<string, unknown>);
  port.on('message', (message: { id: number; task: Task }) => {
    try {
      port.postMessage({ id: message.id, result: handler(message.task) });
    } catch (err) {
      port.postMessage({ id: message.id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    }
  });
  port.postMessage({ id: -1, ready: true });
}
