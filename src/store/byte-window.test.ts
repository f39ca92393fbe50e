import { describe, expect, it } from 'vitest';
import { ByteWindow } from './byte-window.js';

const settled = async (p: Promise<void>): Promise<boolean> => {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
};

describe('ByteWindow', () => {
  it('lets requests in while they fit and holds the rest until bytes are released', async () => {
    const w = new ByteWindow(100);
    await w.acquire(60);
    await w.acquire(40);
    expect(w.inFlightBytes).toBe(100);
    const third = w.acquire(30);
    expect(await settled(third)).toBe(false);
    w.release(40); // 60 + 30 fits
    expect(await settled(third)).toBe(true);
    expect(w.inFlightBytes).toBe(90);
  });

  it('grants in the order asked: a small request does not overtake a waiting big one', async () => {
    const w = new ByteWindow(100);
    await w.acquire(90);
    const big = w.acquire(50);
    const small = w.acquire(5);
    expect(await settled(small)).toBe(false);
    w.release(90);
    expect(await settled(big)).toBe(true);
    expect(await settled(small)).toBe(true);
    expect(w.inFlightBytes).toBe(55);
  });

  it('lets a request larger than the window through alone', async () => {
    const w = new ByteWindow(100);
    await w.acquire(10);
    const huge = w.acquire(1_000);
    expect(await settled(huge)).toBe(false);
    w.release(10);
    expect(await settled(huge)).toBe(true);
    expect(w.inFlightBytes).toBe(1_000);
  });

  it('rejects a limit that is not positive', () => {
    expect(() => new ByteWindow(0)).toThrow(RangeError);
  });
});
