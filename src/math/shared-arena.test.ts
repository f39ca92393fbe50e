import { describe, it, expect } from 'vitest';
import { allocateArena, f32View, f64View, i32View, planArena } from './shared-arena.js';

describe('shared arena', () => {
  it('lays arrays out back to back on 16-byte boundaries, never at offset 0', () => {
    const { layout, bytes } = planArena({
      a: { type: 'f32', length: 3 },
      b: { type: 'f64', length: 1 },
      c: { type: 'i32', length: 5 },
    });
    expect(layout.a.offset).toBeGreaterThan(0);
    expect(layout.b.offset).toBe(layout.a.offset + 16); // 12 bytes rounded up
    expect(layout.c.offset).toBe(layout.b.offset + 16); // 8 bytes rounded up
    expect(bytes).toBe(layout.c.offset + 32); // 20 bytes rounded up
    const memory = allocateArena(bytes);
    expect(memory.buffer).toBeInstanceOf(SharedArrayBuffer);
    f32View(memory, layout.a).fill(1.5);
    f64View(memory, layout.b).fill(2.5);
    i32View(memory, layout.c).fill(-3);
    expect(Array.from(f32View(memory, layout.a))).toEqual([1.5, 1.5, 1.5]);
    expect(Array.from(f64View(memory, layout.b))).toEqual([2.5]);
    expect(Array.from(i32View(memory, layout.c))).toEqual([-3, -3, -3, -3, -3]);
  });

  it('refuses arenas beyond the 4 GiB wasm address space with RTREC_ERR_MODEL_UNSUPPORTED', () => {
    const { bytes } = planArena({ big: { type: 'f64', length: 2 ** 30 } });
    expect(() => allocateArena(bytes)).toThrow(expect.objectContaining({ code: 'RTREC_ERR_MODEL_UNSUPPORTED' }));
  });
});
