/**
 * @module The Gram sum of an exact single-row solve (mf-solve.ts) in WebAssembly SIMD, Float64:
 * a += Σ_q g_q·g_qᵀ over rows gathered column by column. It is the largest part of folding a user in
 * at serving time (about 40% of a rank-32 implicit solve of 50 entries). Two lanes per instruction
 * and no bounds checks take the sums in about half the time of the blocked JavaScript loop they
 * replace, with the same Float64 arithmetic (the sums are only associated differently): whole solves
 * of 50-300 entries are 1.4-1.9× faster, of 10 entries about even (`npm run bench:fold-solve`).
 * Null where the runtime lacks WebAssembly SIMD or shared memories: callers keep the JavaScript loop.
 */
import { VAL, assembleModule, forLoop, op, seq, type FuncDef } from './wasm-asm.js';
import { wasm, type WasmMemory, type WasmModule } from './wasm-runtime.js';

export interface Float64Gram {
  /**
   * Room for `rank` columns of `stride` entries (stride even); returns the Float64Array to gather
   * into, column i at i·stride. Valid until the next call of `reserve`.
   */
  reserve(rank: number, stride: number): Float64Array;
  /**
   * Adds Σ_q g_q·g_qᵀ to the lower triangle of `a` (rank×rank, row-major) over the first `count`
   * entries of each column gathered in the view `reserve` returned. Entries past `count` in a column
   * may hold anything.
   */
  addTo(a: Float64Array, rank: number, stride: number, count: number): void;
}

const PAGE_BYTES = 65_536;
const MAX_PAGES = 65_536;

// gram64(g, strideBytes, countBytes, kp, out): for every 2×2 block (i, j), j ≤ i, of a kp×kp matrix
// (kp even), out[i][j] = Σ g[i][q]·g[j][q] over countBytes/8 entries (even), two entries per f64x2.
const gram64Fn: FuncDef = (() => {
  const { i32, v128 } = VAL;
  const [g, strideB, countB, kp, out] = [0, 1, 2, 3, 4];
  const [i, j, q, ci, ci1, cj, cj1, o] = [5, 6, 7, 8, 9, 10, 11, 12];
  const [a00, a01, a10, a11, x0, x1, y0, y1] = [13, 14, 15, 16, 17, 18, 19, 20];
  const load = (col: number, to: number) => seq(op.get(col), op.get(q), op.i32Add, op.v128Load(), op.set(to));
  const madd = (acc: number, x: number, y: number) => seq(op.get(acc), op.get(x), op.get(y), op.f64x2Mul, op.f64x2Add, op.set(acc));
  const laneSum = (acc: number) => seq(op.get(acc), op.f64x2Lane(0), op.get(acc), op.f64x2Lane(1), op.f64Add);
  const rowBytes = seq(op.get(kp), op.i32(3), op.i32Shl);
  return {
    name: 'gram64',
    params: [i32, i32, i32, i32, i32],
    results: [],
    locals: [i32, i32, i32, i32, i32, i32, i32, i32, v128, v128, v128, v128, v128, v128, v128, v128],
    body: forLoop(i, op.i32(0), op.get(kp), 2, seq(
      op.get(g), op.get(i), op.get(strideB), op.i32Mul, op.i32Add, op.set(ci),
      op.get(ci), op.get(strideB), op.i32Add, op.set(ci1),
      forLoop(j, op.i32(0), seq(op.get(i), op.i32(2), op.i32Add), 2, seq(
        op.get(g), op.get(j), op.get(strideB), op.i32Mul, op.i32Add, op.set(cj),
        op.get(cj), op.get(strideB), op.i32Add, op.set(cj1),
        op.v128Zero, op.set(a00), op.v128Zero, op.set(a01), op.v128Zero, op.set(a10), op.v128Zero, op.set(a11),
        forLoop(q, op.i32(0), op.get(countB), 16, seq(
          load(ci, x0), load(ci1, x1), load(cj, y0), load(cj1, y1),
          madd(a00, x0, y0), madd(a01, x0, y1), madd(a10, x1, y0), madd(a11, x1, y1),
        )),
        // o = out + (i·kp + j)·8
        op.get(out), op.get(i), op.get(kp), op.i32Mul, op.get(j), op.i32Add, op.i32(3), op.i32Shl, op.i32Add, op.set(o),
        op.get(o), laneSum(a00), op.f64Store(0),
        op.get(o), laneSum(a01), op.f64Store(8),
        op.get(o), rowBytes, op.i32Add, laneSum(a10), op.f64Store(0),
        op.get(o), rowBytes, op.i32Add, laneSum(a11), op.f64Store(8),
      )),
    )),
  };
})();

let compiled: WasmModule | null | undefined;

function gramModule(): WasmModule | null {
  if (compiled === undefined) {
    try {
      compiled = new wasm.Module(assembleModule([gram64Fn]));
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

type Gram64 = (g: number, strideBytes: number, countBytes: number, kp: number, out: number) => void;

/** A Gram kernel with its own memory (one per solve workspace, so per thread), or null without SIMD. */
export function createFloat64Gram(): Float64Gram | null {
  const module = gramModule();
  if (!module) return null;
  let memory: WasmMemory & { grow(pages: number): number };
  let gram64: Gram64;
  try {
    memory = new wasm.Memory({ initial: 1, maximum: MAX_PAGES, shared: true }) as WasmMemory & { grow(pages: number): number };
    gram64 = new wasm.Instance(module, { env: { memory } }).exports.gram64 as Gram64;
  } catch {
    return null;
  }
  // Layout: the kp×kp block sums at 0, then the gathered columns (kp of them, the last one zero when rank is odd).
  let outView: Float64Array = new Float64Array(0);
  let gathered: Float64Array = new Float64Array(0);
  let kpOf = 0;
  return {
    reserve(rank, stride) {
      const kp = (rank + 1) & ~1;
      const outBytes = kp * kp * 8;
      const need = outBytes + kp * stride * 8;
      const pages = Math.ceil(need / PAGE_BYTES);
      const have = memory.buffer.byteLength / PAGE_BYTES;
      if (pages > have) memory.grow(pages - have);
      outView = new Float64Array(memory.buffer, 0, kp * kp);
      gathered = new Float64Array(memory.buffer, outBytes, kp * stride);
      // The padding column of an odd rank takes part in the blocks: it must be zero.
      if (kp !== rank) gathered.fill(0, rank * stride, kp * stride);
      kpOf = kp;
      return gathered;
    },
    addTo(a, rank, stride, count) {
      const kp = kpOf;
      if (kp !== ((rank + 1) & ~1) || gathered.length !== kp * stride || count > stride) throw new RangeError('Float64Gram.addTo: call reserve(rank, stride) first, with count ≤ stride');
      if (count === 0) return;
      // Pairs of entries: an odd count reads one more, zeroed (stride is even, so it is in the column).
      if (count % 2 === 1) for (let i = 0; i < rank; i++) gathered[i * stride + count] = 0;
      gram64(kp * kp * 8, stride * 8, (count + (count % 2)) * 8, kp, 0);
      for (let i = 0; i < rank; i++) {
        const row = i * rank;
        const sums = i * kp;
        for (let j = 0; j <= i; j++) a[row + j] += outView[sums + j];
      }
    },
  };
}
