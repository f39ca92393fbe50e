/**
 * @module One shared WebAssembly memory holding every large array of a parallel computation, so that
 * worker threads and the SIMD kernels see the same bytes without copying. A layout (name → offset,
 * length, element type) is planned once on the main thread and sent to workers with the memory.
 */
import { RecError } from '../core/errors.js';
import { wasm, type WasmMemory } from './wasm-runtime.js';

export type ArenaElement = 'f32' | 'f64' | 'i32';

export interface ArenaSlot {
  readonly type: ArenaElement;
  /** Byte offset into the memory; a multiple of 16. */
  readonly offset: number;
  /** Number of elements. */
  readonly length: number;
}

export type ArenaLayout<K extends string = string> = Readonly<Record<K, ArenaSlot>>;

const PAGE = 65536;
// The 32-bit wasm address space; a few pages are left for good measure.
const MAX_PAGES = 65536 - 16;
// Offset 0 stays unused so that a zero pointer is never a real array.
const FIRST_OFFSET = 64;

/** Plans a layout: each array starts on a 16-byte boundary (the SIMD kernels rely on it). */
export function planArena<K extends string>(spec: Readonly<Record<K, { type: ArenaElement; length: number }>>): {
  layout: ArenaLayout<K>;
  bytes: number;
} {
  let offset = FIRST_OFFSET;
  const layout = {} as Record<K, ArenaSlot>;
  for (const key of Object.keys(spec) as K[]) {
    const { type, length } = spec[key];
    layout[key] = { type, offset, length };
    offset += length * (type === 'f64' ? 8 : 4);
    offset = Math.ceil(offset / 16) * 16; // not `& ~15`: offsets may pass 2³¹ before allocateArena refuses them
  }
  return { layout, bytes: offset };
}

/** A shared memory large enough for `bytes` (fixed size: views on it never go stale). */
export function allocateArena(bytes: number): WasmMemory {
  const pages = Math.ceil(bytes / PAGE);
  if (pages > MAX_PAGES) {
    throw new RecError(
      'RTREC_ERR_MODEL_UNSUPPORTED',
      `training needs ${(bytes / 2 ** 30).toFixed(1)} GiB of working memory; the factorisation kernels address at most 4 GiB (use a smaller rank or fewer interactions)`,
    );
  }
  return new wasm.Memory({ initial: pages, maximum: pages, shared: true });
}

export function f32View(memory: WasmMemory, slot: ArenaSlot): Float32Array {
  return new Float32Array(memory.buffer, slot.offset, slot.length);
}

export function f64View(memory: WasmMemory, slot: ArenaSlot): Float64Array {
  return new Float64Array(memory.buffer, slot.offset, slot.length);
}

export function i32View(memory: WasmMemory, slot: ArenaSlot): Int32Array {
  return new Int32Array(memory.buffer, slot.offset, slot.length);
}
