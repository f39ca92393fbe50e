/**
 * @module Inverse of a dense symmetric positive-definite matrix (Cholesky, then L⁻ᵀ·L⁻¹), in Float64,
 * in place, optionally on worker threads sharing the matrix. Used by EASE (models/ease.ts) for the
 * item×item Gram matrix; kernels in math/dense-inverse-kernels.ts.
 *
 * A matrix from allocateSquare lives in shared WebAssembly memory, so the hot loop runs as wasm SIMD
 * (math/dense-inverse-wasm.ts) and workers share it; any other Float64Array works too, with the
 * JavaScript loop (about half the speed), on workers only if it is backed by a SharedArrayBuffer.
 * Memory: the matrix itself (8·n² bytes: 22.6 MB for n = 1682, 800 MB for 10k, 3.2 GB for 20k) plus
 * 256·n bytes per thread — no second n×n buffer. Time: n³/2 multiply-adds.
 */
import { availableParallelism } from 'node:os';
import { RecError } from '../core/errors.js';
import { CHOLESKY_BLOCK, factorDiagonalBlock, runRegion, type DenseContext, type Region } from './dense-inverse-kernels.js';
import { resolveWorkerUrl, soloTeam, startTeam } from './dense-inverse-threads.js';
import {
  WASM_PAGE_BYTES,
  createSharedMemory,
  dotsModule,
  threadAreaBytes,
  wasmThread,
  type WasmMemory,
} from './dense-inverse-wasm.js';
import type { WorkerWasm } from './dense-inverse-worker.js';

/** Below this size worker start-up (tens of ms) costs more than it saves. */
export const DEFAULT_PARALLEL_MIN_SIZE = 384;

export interface InvertOptions {
  /** Threads to use, the calling one included; defaults to the number of cores. */
  readonly threads?: number;
  readonly signal?: AbortSignal;
  /** Compiled worker script; null forces in-process; by default found by resolveWorkerUrl(). */
  readonly workerUrl?: URL | null;
  /** Smallest n for which workers are started. */
  readonly parallelMinSize?: number;
  /** Called after each step with the fraction of the work done, in [0, 1]. */
  readonly onProgress?: (fraction: number) => void;
}

export interface InvertReport {
  readonly seconds: number;
  /** Threads that actually worked (1 when it ran in-process). */
  readonly threads: number;
}

// The wasm memory behind each matrix allocateSquare returned, keyed by the matrix's buffer.
const memories = new WeakMap<ArrayBufferLike, WasmMemory>();

/**
 * A zeroed row-major n×n Float64 matrix for invertSpd: in shared WebAssembly memory when the runtime
 * has wasm SIMD and 8·n² bytes fit in wasm's 4 GiB, else on a plain SharedArrayBuffer.
 * @throws RangeError when the memory cannot be allocated.
 */
export function allocateSquare(n: number): Float64Array {
  const bytes = n * n * Float64Array.BYTES_PER_ELEMENT;
  // invertSpd later grows the memory by the threads' scratch areas.
  const memory = dotsModule() ? createSharedMemory(Math.max(1, Math.ceil(bytes / WASM_PAGE_BYTES))) : null;
  if (!memory) return new Float64Array(new SharedArrayBuffer(bytes));
  const a = new Float64Array(memory.buffer, 0, n * n);
  memories.set(memory.buffer, memory);
  return a;
}

/**
 * Writes A⁻¹ of the symmetric positive-definite `a` (row-major n×n; only its lower triangle and
 * diagonal are read) into `out` (row-major n×n, full symmetric result). `out` may be `a` itself to
 * invert in place without a second n×n buffer. Workers are used when `out` is shared (see
 * allocateSquare), n ≥ parallelMinSize, threads > 1 and a compiled worker exists.
 * @throws RecError RTREC_ERR_CONFIG_INVALID when `a` is not positive definite (a pivot ≤ 0 or NaN);
 *   RTREC_ERR_MODEL_FIT_ABORTED when `signal` fires (then `out` holds partial results).
 */
export async function invertSpd(a: Float64Array, n: number, out: Float64Array, options: InvertOptions = {}): Promise<InvertReport> {
  const started = performance.now();
  checkShape(a, n, 'a');
  checkShape(out, n, 'out');
  throwIfAborted(options.signal);
  if (out !== a) out.set(a);
  const workerUrl = workersWanted(out, n, options);
  const workers = workerUrl ? Math.min(Math.floor(options.threads ?? availableParallelism()) - 1, Math.ceil(n / 64)) : 0;
  const wasm = wasmAreas(out, n, workers + 1);
  const ctx = createContext(out, n, wasm?.[0] ?? null);
  const team = (workerUrl && (await startTeam(ctx, workers, workerUrl, wasm?.slice(1) ?? null))) || soloTeam(ctx);
  const { signal } = options;
  // Every member checks this flag before each unit, so a region stops soon after an abort.
  const cancel = (): void => void Atomics.store(ctx.counter, 1, 1);
  signal?.addEventListener('abort', cancel);
  try {
    for (const step of plan(n)) {
      if (step.factor) factorOrThrow(out, n, step.factor.k0, step.factor.k1);
      for (const region of step.regions) {
        throwIfAborted(signal);
        await team.run(region);
      }
      throwIfAborted(signal);
      options.onProgress?.(step.done);
    }
  } finally {
    signal?.removeEventListener('abort', cancel);
    await team.close();
  }
  return { seconds: (performance.now() - started) / 1000, threads: team.size };
}

/** invertSpd in the calling thread only, without yielding (same result, same in-place rule). */
export function invertSpdSync(a: Float64Array, n: number, out: Float64Array): void {
  checkShape(a, n, 'a');
  checkShape(out, n, 'out');
  if (out !== a) out.set(a);
  const wasm = wasmAreas(out, n, 1);
  const ctx = createContext(out, n, wasm?.[0] ?? null);
  for (const step of plan(n)) {
    if (step.factor) factorOrThrow(out, n, step.factor.k0, step.factor.k1);
    for (const region of step.regions) {
      Atomics.store(ctx.counter, 0, 0);
      runRegion(ctx, region);
    }
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new RecError('RTREC_ERR_MODEL_FIT_ABORTED', 'matrix inversion was cancelled', { cause: signal.reason });
}

/** The worker script to use, or null when this inversion should stay in the calling thread. */
function workersWanted(out: Float64Array, n: number, options: InvertOptions): URL | null {
  const threads = Math.floor(options.threads ?? availableParallelism());
  const minSize = options.parallelMinSize ?? DEFAULT_PARALLEL_MIN_SIZE;
  if (threads < 2 || n < minSize || !(out.buffer instanceof SharedArrayBuffer)) return null;
  return options.workerUrl === undefined ? resolveWorkerUrl() : options.workerUrl;
}

/**
 * When `m` is in wasm memory: grows that memory so each of `threads` threads has an area after the
 * matrix, and returns the areas. Null (use the JavaScript loop) when `m` is not in wasm memory or
 * the areas would not fit in 4 GiB.
 */
function wasmAreas(m: Float64Array, n: number, threads: number): WorkerWasm[] | null {
  const memory = memories.get(m.buffer);
  const module = dotsModule();
  if (!memory || !module) return null;
  const first = Math.ceil((m.byteOffset + m.byteLength) / 64) * 64;
  const size = threadAreaBytes(n);
  const need = first + threads * size;
  const have = memory.buffer.byteLength;
  if (need > have) {
    try {
      memory.grow(Math.ceil((need - have) / WASM_PAGE_BYTES));
    } catch {
      return null;
    }
  }
  return Array.from({ length: threads }, (_, t) => ({ module, memory, area: first + t * size }));
}

interface Step {
  readonly factor?: { readonly k0: number; readonly k1: number };
  readonly regions: readonly Region[];
  /** Fraction of the total work done once this step is over. */
  readonly done: number;
}

/** The sequence of serial diagonal factorisations and parallel regions (see the kernels' header). */
function plan(n: number): Step[] {
  const steps: Step[] = [];
  // Each of the three phases costs ≈ n³/6 multiply-adds; Cholesky's share done after column k1
  // is 1 − ((n − k1)/n)³.
  for (let k0 = 0; k0 < n; k0 += CHOLESKY_BLOCK) {
    const k1 = Math.min(k0 + CHOLESKY_BLOCK, n);
    const regions: Region[] = k1 < n ? [{ op: 'panel', k0, k1 }, { op: 'trailing', k0, k1 }] : [];
    steps.push({ factor: { k0, k1 }, regions, done: (1 - ((n - k1) / n) ** 3) / 3 });
  }
  steps.push({ regions: [{ op: 'save-diagonal' }, { op: 'inverse-factor' }], done: 2 / 3 });
  steps.push({ regions: [{ op: 'product' }, { op: 'mirror' }], done: 1 });
  return steps;
}

function createContext(a: Float64Array, n: number, wasm: WorkerWasm | null): DenseContext {
  const shared = a.buffer instanceof SharedArrayBuffer;
  const diagBytes = n * Float64Array.BYTES_PER_ELEMENT;
  const buf = (bytes: number): ArrayBufferLike => (shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  return {
    a,
    n,
    lDiag: new Float64Array(buf(diagBytes)),
    pDiag: new Float64Array(buf(diagBytes)),
    counter: new Int32Array(buf(2 * Int32Array.BYTES_PER_ELEMENT)),
    ...(wasm ? wasmThread(wasm.module, wasm.memory, wasm.area, n) : {}),
  };
}

function factorOrThrow(a: Float64Array, n: number, k0: number, k1: number): void {
  const row = factorDiagonalBlock(a, n, k0, k1);
  if (row >= 0) {
    throw new RecError(
      'RTREC_ERR_CONFIG_INVALID',
      `matrix is not positive definite: the Cholesky pivot of row ${row} (of ${n}) is not positive; ` +
        'for EASE use a larger lambda',
      { details: { row, n } },
    );
  }
}

function checkShape(m: Float64Array, n: number, name: string): void {
  if (!Number.isInteger(n) || n < 0 || m.length !== n * n) {
    throw new RangeError(`${name} must hold n×n = ${n}×${n} values, it holds ${m.length}`);
  }
}
