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
 * until every one reports ready. Rejects, and stops the workers, if one fails to start. Tasks of all
 * `run` calls, concurrent ones included, wait in one queue; each idle worker takes the next.
 */
export async function createWorkerPool<Task, Result>(
  entry: URL,
  size: number,
  data: Record<string, unknown>,
): Promise<TaskExecutor<Task, Result>> {
  interface Job {
    readonly task: Task;
    readonly resolve: (result: Result) => void;
    readonly reject: (err: Error) => void;
  }
  const workers: Worker[] = [];
  let closed = false;
  let failure: Error | null = null;
  const queue: Job[] = [];
  // Per worker: the job it is running, if any.
  const running: (Job | undefined)[] = [];
  const started: Promise<void>[] = [];

  /** Fails every queued and running job, and every later one, with `err`. */
  const failAll = (err: Error): void => {
    failure ??= err;
    for (let w = 0; w < running.length; w++) {
      running[w]?.reject(err);
      running[w] = undefined;
    }
    for (const job of queue.splice(0)) job.reject(err);
  };

  const dispatch = (): void => {
    for (let w = 0; w < workers.length && queue.length > 0; w++) {
      if (running[w]) continue;
      const job = queue.shift()!;
      running[w] = job;
      workers[w].postMessage({ id: 0, task: job.task });
    }
  };

  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    // Tasks still queued or running are rejected rather than left waiting for stopped workers.
    failAll(new Error('worker pool is closed'));
    await Promise.all(workers.map((w) => w.terminate()));
  };

  for (let w = 0; w < size; w++) {
    const worker = new Worker(entry, { workerData: { ...data, threadIndex: w } });
    started.push(
      new Promise<void>((resolve, reject) => {
        worker.on('message', (reply: Reply<Result>) => {
          if (reply.ready) return resolve();
          const job = running[w];
          running[w] = undefined;
          if (reply.error !== undefined) job?.reject(new Error(reply.error));
          else job?.resolve(reply.result as Result);
          dispatch();
        });
        const fail = (err: Error): void => {
          reject(err);
          failAll(err);
        };
        worker.on('error', fail);
        worker.on('exit', (code) => {
          if (!closed) fail(new Error(`worker ${w} exited with code ${code}`));
        });
      }),
    );
    workers.push(worker);
  }
  try {
    await Promise.all(started);
  } catch (err) {
    await close();
    throw err;
  }

  const run = async (tasks: readonly Task[]): Promise<Result[]> => {
    const results = tasks.map(
      (task) =>
        new Promise<Result>((resolve, reject) => {
          if (closed) return reject(new Error('worker pool is closed'));
          if (failure) return reject(failure);
          queue.push({ task, resolve, reject });
        }),
    );
    dispatch();
    return Promise.all(results);
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
