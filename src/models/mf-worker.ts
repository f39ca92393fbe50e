/**
 * @module Worker-thread entry of the factorisation trainers: binds the half-step kernels to the
 * shared fit arena received in workerData and serves tasks from models/mf-trainer.ts.
 */
import type { ArenaLayout } from '../math/shared-arena.js';
import type { WasmMemory } from '../math/wasm-runtime.js';
import { serveWorkerTasks } from '../math/worker-pool.js';
import { createMfKernel, type MfArenaKey, type MfConfig, type MfTask, type MfTaskResult } from './mf-kernels.js';

serveWorkerTasks<MfTask, MfTaskResult>((data) =>
  createMfKernel(
    data.memory as WasmMemory,
    data.layout as ArenaLayout<MfArenaKey>,
    data.config as MfConfig,
    data.threadIndex as number,
  ),
);
