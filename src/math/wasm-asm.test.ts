import { describe, it, expect } from 'vitest';
import { VAL, assembleModule, forLoop, op, seq, sleb, uleb } from './wasm-asm.js';
import { wasm } from './wasm-runtime.js';

describe('wasm assembler', () => {
  it('encodes LEB128 as the specification examples', () => {
    expect(uleb(0)).toEqual([0]);
    expect(uleb(127)).toEqual([0x7f]);
    expect(uleb(128)).toEqual([0x80, 0x01]);
    expect(uleb(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(sleb(-1)).toEqual([0x7f]);
    expect(sleb(63)).toEqual([0x3f]);
    expect(sleb(64)).toEqual([0xc0, 0x00]);
    expect(sleb(-123456)).toEqual([0xc0, 0xbb, 0x78]);
  });

  it('assembles a valid module whose loop sums 0..n-1 from memory', () => {
    const { i32 } = VAL;
    // sum(ptr, n): Σ_i mem32[ptr + 4i]
    const bytes = assembleModule([{
      name: 'sum', params: [i32, i32], results: [i32], locals: [i32, i32],
      body: seq(
        op.i32(0), op.set(3),
        forLoop(2, op.i32(0), op.get(1), 1, seq(
          op.get(3), op.get(0), op.get(2), op.i32(2), op.i32Shl, op.i32Add, op.i32Load(), op.i32Add, op.set(3),
        )),
        op.get(3),
      ),
    }]);
    expect(wasm.validate(bytes)).toBe(true);
    const memory = new wasm.Memory({ initial: 1, maximum: 1, shared: true });
    const view = new Int32Array(memory.buffer, 64, 10);
    for (let i = 0; i < 10; i++) view[i] = i * i;
    const sum = new wasm.Instance(new wasm.Module(bytes), { env: { memory } }).exports.sum as (p: number, n: number) => number;
    expect(sum(64, 10)).toBe(285);
    expect(sum(64, 0)).toBe(0);
  });
});
