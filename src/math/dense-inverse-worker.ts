/**
 * @module Worker-thread entry of the dense SPD inverse: receives views on the shared buffers once,
 * then runs each region it is sent (math/dense-inverse-kernels.ts) and answers 'done'. Imports only
 * the kernels and their wasm part, so it loads fast and without the rest of rtrec.
 */
import { parentPort } from 'node:worker_threads';
import { KERNEL_VERSION, runRegion, type DenseContext, type Region } from './dense-inverse-kernels.js';
import { wasmThread, type WasmMemory, type WasmModule } from './dense-inverse-wasm.js';

/** Where this worker's wasm kernel and scratch live, when the matrix is in wasm memory. */
export interface WorkerWasm {
  readonly module: WasmModule;
  readonly memory: WasmMemory;
  /** Byte address of this worker's area (math/dense-inverse-wasm.ts threadAreaBytes). */
  readonly area: number;
}

/** The part of a DenseContext that all threads share. */
export type SharedContext = Pick<DenseContext, 'a' | 'n' | 'lDiag' | 'pDiag' | 'counter'>;

/** Messages from the calling thread. */
export type ToWorker =
  | { readonly kind: 'init'; readonly ctx: SharedContext; readonly wasm: WorkerWasm | null }
  | { readonly kind: 'run'; readonly region: Region };

/** Messages to the calling thread. */
export type FromWorker =
  | { readonly kind: 'ready'; readonly version: number }
  | { readonly kind: 'done' }
  | { readonly kind: 'failed'; readonly message: string };

const port = parentPort;
if (port) {
  let ctx: DenseContext | undefined;
  port.on('message', (msg: ToWorker) => {
    try {
      if (msg.kind === 'init') {
        ctx = msg.wasm
          ? { ...msg.ctx, ...wasmThread(msg.wasm.module, msg.wasm.memory, msg.wasm.area, msg.ctx.n) }
          : { ...msg.ctx };
        port.postMessage({ kind: 'ready', version: KERNEL_VERSION } satisfies FromWorker);
      } else {
        if (!ctx) throw new Error('dense-inverse worker ran a region before init');
        runRegion(ctx, msg.region);
        port.postMessage({ kind: 'done' } satisfies FromWorker);
      }
    } catch (err) {
      port.postMessage({ kind: 'failed', message: err instanceof Error ? err.message : String(err) } satisfies FromWorker);
    }
  });
}
