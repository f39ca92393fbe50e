/**
 * @module The hot loop of the dense SPD inverse as WebAssembly SIMD (f64x2), about twice the speed of
 * the same loop in JavaScript, which V8 does not vectorise. The module is assembled here from its
 * opcodes (a few hundred bytes; no build step, no binary checked in) and imports the shared memory
 * holding the matrix. Imports only the kernels' constants, so workers load it cheaply.
 *
 * Exported function dots4x2(x0, xs, q0, q1, bytes, out), all byte addresses/lengths in the memory:
 *   out[2r + c] = Σ_{0≤t<bytes/8} f64[x0 + r·xs + 8t] · f64[qc + 8t]   (r = 0..3, c = 0, 1)
 * `bytes` must be a multiple of 16 (callers add an odd last term themselves).
 */
import { PANEL, type WasmKernel } from './dense-inverse-kernels.js';

// The project's TypeScript lib (ES2023, node types) does not declare the WebAssembly global, so
// the few parts used here are typed locally.
/** A compiled WebAssembly.Module (opaque; structured-cloneable to workers). */
export interface WasmModule {
  readonly [Symbol.toStringTag]: string;
}

/** A shared WebAssembly.Memory. */
export interface WasmMemory {
  readonly buffer: SharedArrayBuffer;
  /** Adds `pages` pages of 64 KiB; throws RangeError past the maximum. */
  grow(pages: number): number;
}

interface WasmApi {
  readonly Module: new (bytes: Uint8Array) => WasmModule;
  readonly Instance: new (module: WasmModule, imports: object) => { readonly exports: Record<string, unknown> };
  readonly Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
}

const wasmApi = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

/** Largest memory a wasm32 module can address: 65536 pages of 64 KiB (4 GiB). */
export const WASM_PAGE_BYTES = 65536;
export const WASM_MAX_PAGES = 65536;

/** The instantiated kernel of one thread. */
export type Dots4x2 = (x0: number, xs: number, q0: number, q1: number, bytes: number, out: number) => void;

let compiled: WasmModule | null | undefined;

/** The compiled module, or null when this runtime lacks WebAssembly SIMD or threads (then use JS). */
export function dotsModule(): WasmModule | null {
  if (compiled === undefined) {
    try {
      compiled = wasmApi ? new wasmApi.Module(moduleBytes()) : null;
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/**
 * A shared memory of `pages` pages that may grow to the wasm32 maximum (growing only reserves
 * address space until used); null when the runtime cannot provide one.
 */
export function createSharedMemory(pages: number): WasmMemory | null {
  if (!wasmApi || pages > WASM_MAX_PAGES) return null;
  try {
    return new wasmApi.Memory({ initial: pages, maximum: WASM_MAX_PAGES, shared: true });
  } catch {
    return null;
  }
}

/** Instantiates the module on `memory` (the shared memory that holds the matrix). */
export function instantiateDots(module: WasmModule, memory: WasmMemory): Dots4x2 {
  if (!wasmApi) throw new Error('WebAssembly is not available');
  const instance = new wasmApi.Instance(module, { env: { memory } });
  return instance.exports.dots4x2 as Dots4x2;
}

/**
 * Bytes each thread needs in the wasm memory besides the matrix: its 8 results, then its PANEL×n
 * scratch (64-byte aligned so areas can be laid out back to back).
 */
export function threadAreaBytes(n: number): number {
  return 64 + Math.ceil((PANEL * n * 8) / 64) * 64;
}

/** The kernel and scratch of the thread whose area starts at byte `area` of `memory`. */
export function wasmThread(
  module: WasmModule,
  memory: WasmMemory,
  area: number,
  n: number,
): { wasm: WasmKernel; scratch: Float64Array } {
  const dots = instantiateDots(module, memory);
  return {
    wasm: { dots, acc: new Float64Array(memory.buffer, area, 8) },
    scratch: new Float64Array(memory.buffer, area + 64, PANEL * n),
  };
}

// --- Binary encoding (https://webassembly.github.io/spec/core/binary/) ---

const I32 = 0x7f;
const V128 = 0x7b;

function uleb(n: number): number[] {
  const out: number[] = [];
  let v = n >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

function name(s: string): number[] {
  return [...uleb(s.length), ...Array.from(s, (ch) => ch.charCodeAt(0))];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function section(id: number, bytes: number[]): number[] {
  return [id, ...uleb(bytes.length), ...bytes];
}

const localGet = (i: number): number[] => [0x20, ...uleb(i)];
const localSet = (i: number): number[] => [0x21, ...uleb(i)];
const I32_ADD = 0x6a;
const I32_GE_U = 0x4f;
const F64_ADD = 0xa0;
/** f64.store with 8-byte alignment and a constant offset. */
const f64Store = (offset: number): number[] => [0x39, 3, ...uleb(offset)];
/** v128.load at (addr), alignment hint 8 bytes: rows start on 8-byte, not 16-byte, boundaries. */
const V128_LOAD = [0xfd, ...uleb(0x00), 3, 0];
const F64X2_ADD = [0xfd, ...uleb(240)];
const F64X2_MUL = [0xfd, ...uleb(242)];
const f64x2Lane = (lane: number): number[] => [0xfd, ...uleb(0x21), lane];

function moduleBytes(): Uint8Array {
  // Parameters 0..5: x0, xs, q0, q1, bytes, out. Locals: 6 i, 7..9 row addresses x1..x3 (i32);
  // 10 b0, 11 b1, 12 v, 13..20 the eight accumulators (v128, zero-initialised by wasm).
  const [X0, XS, Q0, Q1, BYTES, OUT, I, X1, X2, X3, B0, B1, V, S] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
  const load = (base: number): number[] => [...localGet(base), ...localGet(I), I32_ADD, ...V128_LOAD];
  const body: number[] = [
    ...localGet(X0), ...localGet(XS), I32_ADD, ...localSet(X1),
    ...localGet(X1), ...localGet(XS), I32_ADD, ...localSet(X2),
    ...localGet(X2), ...localGet(XS), I32_ADD, ...localSet(X3),
    0x02, 0x40, // block
    0x03, 0x40, // loop
    ...localGet(I), ...localGet(BYTES), I32_GE_U, 0x0d, 1, // br_if 1 when i >= bytes
    ...load(Q0), ...localSet(B0),
    ...load(Q1), ...localSet(B1),
  ];
  [X0, X1, X2, X3].forEach((row, r) => {
    body.push(...load(row), ...localSet(V));
    for (const [c, b] of [[0, B0], [1, B1]]) {
      const s = S + 2 * r + c;
      body.push(...localGet(s), ...localGet(V), ...localGet(b), ...F64X2_MUL, ...F64X2_ADD, ...localSet(s));
    }
  });
  body.push(...localGet(I), 0x41, 16, I32_ADD, ...localSet(I), 0x0c, 0, 0x0b, 0x0b); // i += 16; br 0; end; end
  for (let k = 0; k < 8; k++) {
    body.push(...localGet(OUT), ...localGet(S + k), ...f64x2Lane(0), ...localGet(S + k), ...f64x2Lane(1), F64_ADD, ...f64Store(8 * k));
  }
  body.push(0x0b);
  const code = [...vec([[...uleb(4), I32], [...uleb(11), V128]]), ...body];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, ...vec([[I32], [I32], [I32], [I32], [I32], [I32]]), 0]])),
    // Imported memory: shared, at least 1 page, at most the wasm32 limit.
    ...section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x03, ...uleb(1), ...uleb(WASM_MAX_PAGES)]])),
    ...section(3, vec([[0]])),
    ...section(7, vec([[...name('dots4x2'), 0x00, 0]])),
    ...section(10, vec([[...uleb(code.length), ...code]])),
  ]);
}
