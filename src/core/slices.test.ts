import { describe, expect, it } from 'vitest';
import { mapInSlices } from './slices.js';

describe('mapInSlices', () => {
  it('maps every item in order, sync and async alike, with the event loop turning between slices only', async () => {
    const turns: string[] = [];
    // Each setImmediate marks an event-loop turn; one is re-armed after it runs.
    let ticks = 0;
    const tick = (): void => {
      ticks++;
      if (ticks < 100) setImmediate(tick);
    };
    setImmediate(tick);
    const out = await mapInSlices([1, 2, 3, 4, 5, 6, 7], 3, (x, j) => {
      turns.push(`${j}@${ticks}`);
      return x % 2 === 0 ? Promise.resolve(x * 10) : x * 10;
    });
    expect(out).toEqual([10, 20, 30, 40, 50, 60, 70]);
    // Items of a slice share a turn; the next slice starts in a later one.
    const turnOf = turns.map((t) => Number(t.split('@')[1]));
    expect(turnOf[0]).toBe(turnOf[2]);
    expect(turnOf[3]).toBe(turnOf[5]);
    expect(turnOf[3]).toBeGreaterThan(turnOf[2]);
    expect(turnOf[6]).toBeGreaterThan(turnOf[5]);
  });

  it('treats a size below 1 as 1 and an empty input as nothing to do', async () => {
    expect(await mapInSlices([], 10, () => 1)).toEqual([]);
    expect(await mapInSlices(['a', 'b'], 0, (x) => x.toUpperCase())).toEqual(['A', 'B']);
  });

  it('rejects with the first failure of a slice and does not start later slices', async () => {
    const seen: number[] = [];
    await expect(
      mapInSlices([1, 2, 3, 4], 2, (x) => {
        seen.push(x);
        return x === 2 ? Promise.reject(new Error('boom')) : x;
      }),
    ).rejects.toThrow('boom');
    expect(seen).toEqual([1, 2]);
  });
});
