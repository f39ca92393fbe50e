/**
 * @module 128-bit SIMD kernels (f32x4) for the factorisation trainers, assembled at run time with
 * math/wasm-asm.ts and run on a shared linear memory (the fit arena). Plain JS on typed arrays reaches
 * about 2 GFLOP/s per thread on these loops; these reach 10–20 (measured on a Xeon, Node 20), which
 * is what makes implicit ALS on ten million interactions fit in well under a minute.
 *
 * Conventions: every pointer is a byte offset into the memory and 16-byte aligned; vectors and factor
 * rows have a padded length `len` in bytes that is a multiple of 16 (rank rounded up to 4 floats, the
 * padding kept at zero); matrices are row-major `len/4 × len/4` f32.
 */
import { VAL, assembleModule, forLoop, op, seq, type Code, type FuncDef } from './wasm-asm.js';
import { wasm, type WasmMemory, type WasmModule } from './wasm-runtime.js';

const { i32, f32, v128 } = VAL;

/** Pushes the sum of the four lanes of v128 local `acc`. */
function hsumCode(acc: number): number[] {
  return seq(
    op.get(acc), op.f32x4Lane(0), op.get(acc), op.f32x4Lane(1), op.f32Add,
    op.get(acc), op.f32x4Lane(2), op.f32Add, op.get(acc), op.f32x4Lane(3), op.f32Add,
  );
}

/** Pushes Σ a[i]·b[i] (f32) over `len` bytes; uses two accumulators to hide add latency. */
function dotCode(a: number, b: number, len: number, i: number, acc0: number, acc1: number): number[] {
  const term = (off: number): Code =>
    seq(op.get(a), op.get(i), op.i32Add, op.v128Load(off), op.get(b), op.get(i), op.i32Add, op.v128Load(off), op.f32x4Mul);
  return seq(
    op.v128Zero, op.set(acc0), op.v128Zero, op.set(acc1), op.i32(0), op.set(i),
    op.block, op.loop,
    op.get(i), op.i32(32), op.i32Add, op.get(len), op.i32GtS, op.brIf(1),
    op.get(acc0), term(0), op.f32x4Add, op.set(acc0),
    op.get(acc1), term(16), op.f32x4Add, op.set(acc1),
    op.get(i), op.i32(32), op.i32Add, op.set(i),
    op.br(0),
    op.end, op.end,
    op.get(i), op.get(len), op.i32LtS, op.ifVoid,
    op.get(acc0), term(0), op.f32x4Add, op.set(acc0),
    op.end,
    op.get(acc0), op.get(acc1), op.f32x4Add, op.set(acc0),
    hsumCode(acc0),
  );
}

/** out[i] += s·y[i] over `len` bytes, with `s` a splatted v128 local. */
function axpyCode(out: number, y: number, s: number, len: number, i: number): number[] {
  return forLoop(i, op.i32(0), op.get(len), 16, seq(
    op.get(out), op.get(i), op.i32Add,
    op.get(out), op.get(i), op.i32Add, op.v128Load(),
    op.get(s), op.get(y), op.get(i), op.i32Add, op.v128Load(), op.f32x4Mul,
    op.f32x4Add, op.v128Store(),
  ));
}

// dot(a, b, len) -> f32
const dotFn: FuncDef = {
  name: 'dot', params: [i32, i32, i32], results: [f32], locals: [i32, v128, v128],
  body: dotCode(0, 1, 2, 3, 4, 5),
};

/**
 * out = A·v, four rows of A at a time sharing each load of v. `rowsParam` is the parameter holding
 * the byte length of `out` (4 × rows, a multiple of 16): for a square A that is `len` itself.
 */
function matVecCode(A: number, v: number, out: number, len: number, rowsBytes: number, first: number): number[] {
  const [o, r0, r1, r2, r3, j, a0, a1, a2, a3, vj] = Array.from({ length: 11 }, (_, t) => first + t);
  const rows = [r0, r1, r2, r3], accs = [a0, a1, a2, a3];
  return seq(
    op.get(A), op.set(r0),
    forLoop(o, op.i32(0), op.get(rowsBytes), 16, seq(
      op.get(r0), op.get(len), op.i32Add, op.set(r1),
      op.get(r1), op.get(len), op.i32Add, op.set(r2),
      op.get(r2), op.get(len), op.i32Add, op.set(r3),
      ...accs.map((acc) => seq(op.v128Zero, op.set(acc))),
      forLoop(j, op.i32(0), op.get(len), 16, seq(
        op.get(v), op.get(j), op.i32Add, op.v128Load(), op.set(vj),
        ...rows.map((r, t) => seq(
          op.get(accs[t]), op.get(r), op.get(j), op.i32Add, op.v128Load(), op.get(vj), op.f32x4Mul, op.f32x4Add, op.set(accs[t]),
        )),
      )),
      ...accs.map((acc, t) => seq(op.get(out), op.get(o), op.i32Add, hsumCode(acc), op.f32Store(4 * t))),
      op.get(r3), op.get(len), op.i32Add, op.set(r0),
    )),
  );
}

const MATVEC_LOCALS = [i32, i32, i32, i32, i32, i32, v128, v128, v128, v128, v128];

// matVec(A, v, out, len): out = A·v for a square row-major A.
const matVecFn: FuncDef = {
  name: 'matVec', params: [i32, i32, i32, i32], results: [], locals: MATVEC_LOCALS,
  body: matVecCode(0, 1, 2, 3, 3, 4),
};

// rowsDot(Y, v, out, outBytes, len): out[i] = Y_i·v for the outBytes/4 rows of Y (a multiple of 4
// rows, each `len` bytes): every item's score against one user vector.
const rowsDotFn: FuncDef = {
  name: 'rowsDot', params: [i32, i32, i32, i32, i32], results: [], locals: MATVEC_LOCALS,
  body: matVecCode(0, 1, 2, 4, 3, 5),
};

/**
 * How each stored entry (value r, factor row y) contributes `coef·y` to `out` in `weightedPass`:
 * - step: coef = α|r|·(y·v): the data part of (Yᵀ C Y)·v in a conjugate-gradient step;
 * - init: coef = [r > 0](1 + α|r|) − α|r|·(y·v): the data part of the residual b − A·v;
 * - sum:  coef = r: Σ r·y, the right-hand side of the explicit normal equations.
 */
export type PassMode = 'step' | 'init' | 'sum';

/** Pushes coef for stored value in f32 local `r`, given code pushing y·v (unused for 'sum'); see PassMode. */
function coefCode(mode: PassMode, r: number, alpha: number, dot: Code): number[] {
  const conf = seq(op.get(alpha), op.get(r), op.f32Abs, op.f32Mul); // α|r|
  if (mode === 'sum') return op.get(r);
  if (mode === 'step') return seq(conf, dot, op.f32Mul);
  return seq(op.f32(1), conf, op.f32Add, op.f32(0), op.get(r), op.f32(0), op.f32Gt, op.select, conf, dot, op.f32Mul, op.f32Sub);
}

/**
 * weightedPass(Y, idx, data, n, len, v, out, alpha): out += Σ_q coef_q · Y[idx[q]] over n entries.
 * Entries go four at a time: the four dot products share each load of v and run as independent
 * dependency chains, and the four updates share each load and store of out; a tail loop takes the rest.
 */
function weightedPassFn(mode: PassMode): FuncDef {
  const [Y, idx, data, n, len, v, out, alpha] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [q, yp, i, acc0, acc1, coef, cv, r, nBytes, vi] = [8, 9, 10, 11, 12, 13, 14, 15, 16, 17];
  const yps = [18, 19, 20, 21], accs = [22, 23, 24, 25], cvs = [26, 27, 28, 29], rs = [30, 31, 32, 33];
  const rowPtr = (t: number, dst: number): number[] =>
    seq(op.get(Y), op.get(idx), op.get(q), op.i32Add, op.i32Load(4 * t), op.get(len), op.i32Mul, op.i32Add, op.set(dst));
  const blockDots = forLoop(i, op.i32(0), op.get(len), 16, seq(
    op.get(v), op.get(i), op.i32Add, op.v128Load(), op.set(vi),
    ...accs.map((acc, t) => seq(op.get(acc), op.get(yps[t]), op.get(i), op.i32Add, op.v128Load(), op.get(vi), op.f32x4Mul, op.f32x4Add, op.set(acc))),
  ));
  const term = (t: number): number[] => seq(op.get(cvs[t]), op.get(yps[t]), op.get(i), op.i32Add, op.v128Load(), op.f32x4Mul);
  const block = seq(
    ...yps.map((p, t) => seq(rowPtr(t, p), op.get(data), op.get(q), op.i32Add, op.f32Load(4 * t), op.set(rs[t]))),
    mode === 'sum' ? [] : seq(...accs.map((acc) => seq(op.v128Zero, op.set(acc))), blockDots),
    ...cvs.map((c, t) => seq(coefCode(mode, rs[t], alpha, hsumCode(accs[t])), op.f32x4Splat, op.set(c))),
    forLoop(i, op.i32(0), op.get(len), 16, seq(
      op.get(out), op.get(i), op.i32Add,
      op.get(out), op.get(i), op.i32Add, op.v128Load(),
      term(0), term(1), op.f32x4Add, op.f32x4Add, term(2), term(3), op.f32x4Add, op.f32x4Add,
      op.v128Store(),
    )),
  );
  const single = seq(
    rowPtr(0, yp),
    op.get(data), op.get(q), op.i32Add, op.f32Load(), op.set(r),
    coefCode(mode, r, alpha, mode === 'sum' ? [] : dotCode(yp, v, len, i, acc0, acc1)), op.set(coef),
    op.get(coef), op.f32x4Splat, op.set(cv),
    axpyCode(out, yp, cv, len, i),
  );
  return {
    name: `pass_${mode}`,
    params: [i32, i32, i32, i32, i32, i32, i32, f32],
    results: [],
    locals: [i32, i32, i32, v128, v128, f32, v128, f32, i32, v128, i32, i32, i32, i32, v128, v128, v128, v128, v128, v128, v128, v128, f32, f32, f32, f32],
    body: seq(
      op.get(n), op.i32(2), op.i32Shl, op.set(nBytes),
      forLoop(q, op.i32(0), seq(op.get(nBytes), op.i32(12), op.i32Sub), 16, block),
      forLoop(q, op.get(q), op.get(nBytes), 4, single),
    ),
  };
}

/**
 * gram(Y, idx, n, len, out): out = Σ_q y_q y_qᵀ over n rows (lower triangle, rounded up to whole
 * vectors; the rest of `out` is zeroed). Rows are Y[idx[q]] when `indexed`, else consecutive from Y
 * (idx unused).
 */
function gramFn(indexed: boolean): FuncDef {
  const [Y, idx, n, len, out] = [0, 1, 2, 3, 4];
  const [q, yp, rowOff, outRow, j, s, total] = [5, 6, 7, 8, 9, 10, 11];
  const rowStart = indexed
    ? seq(op.get(Y), op.get(idx), op.get(q), op.i32(2), op.i32Shl, op.i32Add, op.i32Load(), op.get(len), op.i32Mul, op.i32Add, op.set(yp))
    : seq(op.get(Y), op.get(q), op.get(len), op.i32Mul, op.i32Add, op.set(yp));
  return {
    name: indexed ? 'gramIndexed' : 'gramRows',
    params: [i32, i32, i32, i32, i32],
    results: [],
    locals: [i32, i32, i32, i32, i32, v128, i32],
    body: seq(
      // bytes of a (len/4)×(len/4) f32 matrix: len²/4
      op.get(len), op.get(len), op.i32Mul, op.i32(2), op.i32ShrS, op.set(total),
      forLoop(j, op.i32(0), op.get(total), 16, seq(op.get(out), op.get(j), op.i32Add, op.v128Zero, op.v128Store())),
      forLoop(q, op.i32(0), op.get(n), 1, seq(
        rowStart,
        op.get(out), op.set(outRow),
        forLoop(rowOff, op.i32(0), op.get(len), 4, seq(
          op.get(yp), op.get(rowOff), op.i32Add, op.f32Load(), op.f32x4Splat, op.set(s),
          forLoop(j, op.i32(0), seq(op.get(rowOff), op.i32(16), op.i32Add, op.i32(-16), op.i32And), 16, seq(
            op.get(outRow), op.get(j), op.i32Add,
            op.get(outRow), op.get(j), op.i32Add, op.v128Load(),
            op.get(s), op.get(yp), op.get(j), op.i32Add, op.v128Load(), op.f32x4Mul,
            op.f32x4Add, op.v128Store(),
          )),
          op.get(outRow), op.get(len), op.i32Add, op.set(outRow),
        )),
      )),
    ),
  };
}

// cgUpdate(x, r, p, ap, alpha, len) -> f32: x += α·p; r −= α·Ap; returns r·r.
const cgUpdateFn: FuncDef = {
  name: 'cgUpdate', params: [i32, i32, i32, i32, f32, i32], results: [f32], locals: [i32, v128, v128, v128],
  body: (() => {
    const [x, r, p, ap, alpha, len, i, acc, av, rv] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    return seq(
      op.get(alpha), op.f32x4Splat, op.set(av), op.v128Zero, op.set(acc),
      forLoop(i, op.i32(0), op.get(len), 16, seq(
        op.get(x), op.get(i), op.i32Add,
        op.get(x), op.get(i), op.i32Add, op.v128Load(),
        op.get(av), op.get(p), op.get(i), op.i32Add, op.v128Load(), op.f32x4Mul, op.f32x4Add, op.v128Store(),
        op.get(r), op.get(i), op.i32Add, op.v128Load(),
        op.get(av), op.get(ap), op.get(i), op.i32Add, op.v128Load(), op.f32x4Mul, op.f32x4Sub, op.set(rv),
        op.get(r), op.get(i), op.i32Add, op.get(rv), op.v128Store(),
        op.get(acc), op.get(rv), op.get(rv), op.f32x4Mul, op.f32x4Add, op.set(acc),
      )),
      hsumCode(acc),
    );
  })(),
};

// xpay(p, r, beta, len): p = r + β·p.
const xpayFn: FuncDef = {
  name: 'xpay', params: [i32, i32, f32, i32], results: [], locals: [i32, v128],
  body: (() => {
    const [p, r, beta, len, i, bv] = [0, 1, 2, 3, 4, 5];
    return seq(
      op.get(beta), op.f32x4Splat, op.set(bv),
      forLoop(i, op.i32(0), op.get(len), 16, seq(
        op.get(p), op.get(i), op.i32Add,
        op.get(r), op.get(i), op.i32Add, op.v128Load(),
        op.get(bv), op.get(p), op.get(i), op.i32Add, op.v128Load(), op.f32x4Mul,
        op.f32x4Add, op.v128Store(),
      )),
    );
  })(),
};

// scale(v, s, len): v *= s.
const scaleFn: FuncDef = {
  name: 'scale', params: [i32, f32, i32], results: [], locals: [i32, v128],
  body: seq(
    op.get(1), op.f32x4Splat, op.set(4),
    forLoop(3, op.i32(0), op.get(2), 16, seq(
      op.get(0), op.get(3), op.i32Add,
      op.get(0), op.get(3), op.i32Add, op.v128Load(), op.get(4), op.f32x4Mul, op.v128Store(),
    )),
  ),
};

/** The compiled kernels bound to one memory. Pointers/lengths are in bytes (see module header). */
export interface SimdKernels {
  dot(a: number, b: number, len: number): number;
  matVec(a: number, v: number, out: number, len: number): void;
  /** out[i] = Y_i·v for outBytes/4 rows (a multiple of 4) of `len` bytes each. */
  rowsDot(y: number, v: number, out: number, outBytes: number, len: number): void;
  passStep(y: number, idx: number, data: number, n: number, len: number, v: number, out: number, alpha: number): void;
  passInit(y: number, idx: number, data: number, n: number, len: number, v: number, out: number, alpha: number): void;
  passSum(y: number, idx: number, data: number, n: number, len: number, v: number, out: number, alpha: number): void;
  gramRows(y: number, idx: number, n: number, len: number, out: number): void;
  gramIndexed(y: number, idx: number, n: number, len: number, out: number): void;
  cgUpdate(x: number, r: number, p: number, ap: number, alpha: number, len: number): number;
  xpay(p: number, r: number, beta: number, len: number): void;
  scale(v: number, s: number, len: number): void;
}

let compiled: WasmModule | undefined;

/** The kernel module, compiled once per thread. */
export function simdModule(): WasmModule {
  compiled ??= new wasm.Module(
    assembleModule([
      dotFn, matVecFn, rowsDotFn, weightedPassFn('step'), weightedPassFn('init'), weightedPassFn('sum'),
      gramFn(false), gramFn(true), cgUpdateFn, xpayFn, scaleFn,
    ]),
  );
  return compiled;
}

/** Instantiates the kernels on `memory` (a shared memory: the same kernels run in every worker). */
export function createSimdKernels(memory: WasmMemory): SimdKernels {
  const e = new wasm.Instance(simdModule(), { env: { memory } }).exports as Record<string, (...args: number[]) => number>;
  const kernels: SimdKernels = {
    dot: e.dot,
    matVec: e.matVec,
    rowsDot: e.rowsDot,
    passStep: e.pass_step,
    passInit: e.pass_init,
    passSum: e.pass_sum,
    gramRows: e.gramRows,
    gramIndexed: e.gramIndexed,
    cgUpdate: e.cgUpdate,
    xpay: e.xpay,
    scale: e.scale,
  };
  return kernels;
}

/** Rank rounded up to whole f32x4 vectors: the row stride (in floats) of factor rows in the arena. */
export function paddedRank(rank: number): number {
  return (rank + 3) & ~3;
}
