/**
 * @module Typed access to the WebAssembly runtime global. The project's type libraries (ES2023 +
 * @types/node 20) do not declare `WebAssembly`, so the few members rtrec uses are typed here rather
 * than through a global declaration that could clash with a later @types/node.
 */

/** A linear memory; shared memories have a SharedArrayBuffer that worker threads can see. */
export interface WasmMemory {
  readonly buffer: ArrayBufferLike;
}

export type WasmModule = object;

interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
  validate(bytes: Uint8Array): boolean;
}

export const wasm: WasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
