/**
 * @module A tiny WebAssembly binary assembler: just enough encoding (LEB128, sections, structured
 * control flow, scalar and 128-bit SIMD opcodes) to build the factorisation kernels at run time, so
 * rtrec needs no wasm toolchain or build step. Instruction helpers return byte arrays that are
 * concatenated into function bodies; see math/simd-kernels.ts for the kernels themselves.
 * Opcode numbers: WebAssembly Core Specification 2.0, §5.4 (binary format of instructions).
 */

export const VAL = { i32: 0x7f, f32: 0x7d, f64: 0x7c, v128: 0x7b } as const;
export type ValType = (typeof VAL)[keyof typeof VAL];

export type Code = readonly number[];

export function uleb(value: number): number[] {
  const out: number[] = [];
  let n = value >>> 0;
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

export function sleb(value: number): number[] {
  const out: number[] = [];
  let n = value | 0;
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

/** Concatenates code fragments. */
export function seq(...parts: readonly Code[]): number[] {
  const out: number[] = [];
  for (const p of parts) for (const b of p) out.push(b);
  return out;
}

function vec(items: readonly Code[]): number[] {
  return seq(uleb(items.length), ...items);
}

function name(s: string): number[] {
  return vec([...Buffer.from(s, 'utf8')].map((b) => [b]));
}

function section(id: number, body: Code): number[] {
  return seq([id], uleb(body.length), body);
}

const simd = (op: number, ...imm: number[]): number[] => [0xfd, ...uleb(op), ...imm];
// Memory immediates: alignment exponent, then offset. Unaligned-safe hints (typed arrays in the arena are 16-byte aligned).
const memarg = (align: number, offset: number): number[] => [align, ...uleb(offset)];

/** Instruction encoders (only the ones the kernels use). */
export const op = {
  get: (i: number): number[] => [0x20, ...uleb(i)],
  set: (i: number): number[] => [0x21, ...uleb(i)],
  tee: (i: number): number[] => [0x22, ...uleb(i)],
  i32: (n: number): number[] => [0x41, ...sleb(n)],
  f32: (x: number): number[] => {
    const b = new Uint8Array(new Float32Array([x]).buffer);
    return [0x43, ...b];
  },
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32Mul: [0x6c],
  i32Shl: [0x74],
  i32ShrS: [0x75],
  i32LtS: [0x48],
  i32GtS: [0x4a],
  i32GeS: [0x4e],
  i32And: [0x71],
  i32Eqz: [0x45],
  i32Load: (offset = 0): number[] => [0x28, ...memarg(2, offset)],
  f32Load: (offset = 0): number[] => [0x2a, ...memarg(2, offset)],
  f32Store: (offset = 0): number[] => [0x38, ...memarg(2, offset)],
  f32Add: [0x92],
  f32Sub: [0x93],
  f32Mul: [0x94],
  f32Abs: [0x8b],
  f32Gt: [0x5e],
  f64Load: (offset = 0): number[] => [0x2b, ...memarg(3, offset)],
  f64Store: (offset = 0): number[] => [0x39, ...memarg(3, offset)],
  f64Add: [0xa0],
  select: [0x1b],
  drop: [0x1a],
  ret: [0x0f],
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  ifVoid: [0x04, 0x40],
  end: [0x0b],
  br: (depth: number): number[] => [0x0c, ...uleb(depth)],
  brIf: (depth: number): number[] => [0x0d, ...uleb(depth)],
  v128Load: (offset = 0): number[] => simd(0x00, ...memarg(4, offset)),
  v128Store: (offset = 0): number[] => simd(0x0b, ...memarg(4, offset)),
  v128Zero: simd(0x0c, ...new Array<number>(16).fill(0)),
  f32x4Splat: simd(0x13),
  f32x4Lane: (lane: number): number[] => simd(0x1f, lane),
  f32x4Add: simd(0xe4),
  f32x4Sub: simd(0xe5),
  f32x4Mul: simd(0xe6),
  f64x2Lane: (lane: number): number[] => simd(0x21, lane),
  f64x2Add: simd(0xf0),
  f64x2Mul: simd(0xf2),
};

/**
 * `for (i = start; i < end; i += step) body` (signed compare) where `start`/`end` push an i32 and
 * `step` is a constant. `body` may nest its own loops; it must not branch out of this one.
 */
export function forLoop(i: number, start: Code, end: Code, step: number, body: Code): number[] {
  return seq(
    start, op.set(i),
    op.block, op.loop,
    op.get(i), end, op.i32GeS, op.brIf(1),
    body,
    op.get(i), op.i32(step), op.i32Add, op.set(i),
    op.br(0),
    op.end, op.end,
  );
}

export interface FuncDef {
  readonly name: string;
  readonly params: readonly ValType[];
  readonly results: readonly ValType[];
  /** Extra locals after the parameters, in index order. */
  readonly locals: readonly ValType[];
  readonly body: Code;
}

/**
 * Encodes a module that imports a shared linear memory as `env.memory` (any size up to 4 GiB) and
 * exports every function under its name.
 */
export function assembleModule(funcs: readonly FuncDef[]): Uint8Array {
  const types = funcs.map((f) => seq([0x60], vec(f.params.map((t) => [t])), vec(f.results.map((t) => [t]))));
  const memoryImport = seq(name('env'), name('memory'), [0x02, 0x03], uleb(0), uleb(65536));
  const codes = funcs.map((f) => {
    const localGroups = f.locals.map((t) => seq(uleb(1), [t]));
    const body = seq(vec(localGroups), f.body, op.end);
    return seq(uleb(body.length), body);
  });
  return new Uint8Array(
    seq(
      [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
      section(1, vec(types)),
      section(2, vec([memoryImport])),
      section(3, vec(funcs.map((_, i) => uleb(i)))),
      section(7, vec(funcs.map((f, i) => seq(name(f.name), [0x00], uleb(i))))),
      section(10, vec(codes)),
    ),
  );
}
