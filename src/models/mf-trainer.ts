/**
 * @module Drives an ALS fit: copies the interactions into a shared arena, initialises factors, then
 * alternates half-steps, each split into row chunks run by worker threads (or in-process with
 * `threads: 1`). Checks the abort signal between half-steps and reports after every iteration.
 */
import { availableParallelism } from 'node:os';
import type { CsrMatrix } from '../core/csr.js';
import { RecError } from '../core/errors.js';
import { createRng } from '../core/rng.js';
import { f32View, i32View, type ArenaLayout } from '../math/shared-arena.js';
import { paddedRank } from '../math/simd-kernels.js';
import type { WasmMemory } from '../math/wasm-runtime.js';
import { createInlineExecutor, createWorkerPool, resolveWorkerEntry, type TaskExecutor } from '../math/worker-pool.js';
import { clearGramPartials, createMfArena, createMfKernel, finishGram, type MfArenaKey, type MfConfig, type MfKind, type MfTask, type MfTaskResult, type Side } from './mf-kernels.js';
import type { FitOptions, FitReport } from './recommender.js';

export interface MfTrainSettings {
  readonly kind: MfKind;
  readonly rank: number;
  readonly iterations: number;
  readonly reg: number;
  readonly alpha: number;
  readonly cgSteps: number;
  readonly nonnegative: boolean;
  readonly seed: number;
}

export interface MfTrainResult {
  /** Row-major [numUsers × rank]. */
  readonly userFactors: Float32Array;
  /** Row-major [numItems × rank]. */
  readonly itemFactors: Float32Array;
  readonly report: FitReport;
}

/**
 * Initial factors, as the reference implementations: explicit (Spark) draws each row uniformly on the
 * unit sphere (Gaussian entries, normalised); implicit (the implicit library) uses small entries,
 * here Gaussian with standard deviation 0.01. Users are drawn first, then items.
 */
export function initialFactors(kind: MfKind, rows: number, rank: number, stride: number, seed: number, salt: number, out: Float32Array): void {
  const rng = createRng((seed ^ Math.imul(salt + 1, 0x9e3779b1)) >>> 0);
  for (let r = 0; r < rows; r++) {
    const o = r * stride;
    let norm = 0;
    for (let i = 0; i < rank; i++) {
      const v = rng.normal();
      out[o + i] = v;
      norm += v * v;
    }
    const scale = kind === 'als' ? 1 / Math.sqrt(norm) : 0.01;
    for (let i = 0; i < rank; i++) out[o + i] *= scale;
  }
}

let warnedNoWorker = false;

async function createExecutor(
  threads: number,
  memory: WasmMemory,
  layout: ArenaLayout<MfArenaKey>,
  config: MfConfig,
): Promise<TaskExecutor<MfTask, MfTaskResult>> {
  if (threads > 1) {
    const entry = resolveWorkerEntry('./mf-worker.js', import.meta.url);
    if (entry) return createWorkerPool<MfTask, MfTaskResult>(entry, threads, { memory, layout, config });
    if (!warnedNoWorker) {
      warnedNoWorker = true;
      process.stderr.write('rtrec: compiled worker entry not found (run `npm run build`); training on one thread\n');
    }
  }
  return createInlineExecutor(createMfKernel(memory, layout, config, 0));
}

/** Row ranges with roughly equal work (entries + a per-row cost), `count` of them at most. */
export function splitRows(indptr: Int32Array, rows: number, perRow: number, count: number): [number, number][] {
  const total = indptr[rows] + perRow * rows;
  const target = total / Math.max(1, count);
  const out: [number, number][] = [];
  let start = 0;
  let acc = 0;
  for (let r = 0; r < rows; r++) {
    acc += indptr[r + 1] - indptr[r] + perRow;
    if (acc >= target && r + 1 < rows) {
      out.push([start, r + 1]);
      start = r + 1;
      acc = 0;
    }
  }
  if (start < rows) out.push([start, rows]);
  return out;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new RecError('RTREC_ERR_MODEL_FIT_ABORTED', 'training was cancelled');
}

/** Fits user and item factors to `userItems` (users × items; ratings or strengths). */
export async function trainMf(userItems: CsrMatrix, settings: MfTrainSettings, options: FitOptions = {}): Promise<MfTrainResult> {
  const started = performance.now();
  const { signal, onIteration } = options;
  throwIfAborted(signal);
  const { kind, rank } = settings;
  const stride = paddedRank(rank);
  const numUsers = userItems.rows, numItems = userItems.cols;
  const nnz = userItems.indptr[numUsers];
  const threads = Math.max(1, Math.floor(options.threads ?? availableParallelism()));
  const config: MfConfig = {
    kind, rank, stride, reg: settings.reg, alpha: settings.alpha, cgSteps: settings.cgSteps, nonnegative: settings.nonnegative,
  };

  const arena = createMfArena(userItems, config, threads);
  const { memory, layout } = arena;
  const itemIndptr = i32View(memory, layout.itemIndptr);
  const userFactors = f32View(memory, layout.userFactors);
  const itemFactors = f32View(memory, layout.itemFactors);
  initialFactors(kind, numUsers, rank, stride, settings.seed, 0, userFactors);
  initialFactors(kind, numItems, rank, stride, settings.seed, 1, itemFactors);

  const executor = await createExecutor(Math.min(threads, Math.max(numUsers, numItems, 1)), memory, layout, config);
  try {
    const parallel = executor.parallelism;
    const perRow = kind === 'ials' ? stride : Math.max(1, rank / 3);
    const chunks = parallel > 1 ? parallel * 4 : 1;
    const solveTasks = {
      users: splitRows(userItems.indptr, numUsers, perRow, chunks).map(([start, end]): MfTask => ({ op: 'solve', side: 'users', start, end })),
      items: splitRows(itemIndptr, numItems, perRow, chunks).map(([start, end]): MfTask => ({ op: 'solve', side: 'items', start, end })),
    };
    const gramTasks = (side: Side): MfTask[] => {
      const rows = side === 'users' ? numItems : numUsers;
      const tasks: MfTask[] = [];
      const size = Math.ceil(rows / parallel);
      for (let start = 0; start < rows; start += size) tasks.push({ op: 'gram', side, start, end: Math.min(rows, start + size) });
      return tasks;
    };

    const halfStep = async (side: Side): Promise<number> => {
      throwIfAborted(signal);
      if (kind === 'ials') {
        clearGramPartials(arena);
        await executor.run(gramTasks(side));
        finishGram(arena, config);
      }
      const results = await executor.run(solveTasks[side]);
      let sse = 0;
      for (const r of results) sse += r.sse;
      return sse;
    };

    let finalLoss: number | undefined;
    for (let it = 1; it <= settings.iterations; it++) {
      let loss: number | undefined;
      if (kind === 'als') {
        // Spark's order: items from users, then users from items.
        await halfStep('items');
        const sse = await halfStep('users');
        loss = nnz > 0 ? Math.sqrt(sse / nnz) : 0;
      } else {
        // The implicit library's order: users from items, then items from users.
        await halfStep('users');
        await halfStep('items');
      }
      finalLoss = loss;
      onIteration?.({ iteration: it, total: settings.iterations, loss, seconds: (performance.now() - started) / 1000 });
    }
    throwIfAborted(signal);
    return {
      userFactors: unpad(userFactors, numUsers, rank, stride),
      itemFactors: unpad(itemFactors, numItems, rank, stride),
      report: { seconds: (performance.now() - started) / 1000, iterations: settings.iterations, finalLoss },
    };
  } finally {
    await executor.close();
  }
}

function unpad(padded: Float32Array, rows: number, rank: number, stride: number): Float32Array {
  const out = new Float32Array(rows * rank);
  if (stride === rank) {
    out.set(padded.subarray(0, rows * rank));
    return out;
  }
  for (let r = 0; r < rows; r++) out.set(padded.subarray(r * stride, r * stride + rank), r * rank);
  return out;
}
