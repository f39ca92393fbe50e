import { describe, expect, it } from 'vitest';
import { UserLocks } from './user-locks.js';

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('UserLocks', () => {
  it('runs work on overlapping users one after another in submission order, disjoint work at once', async () => {
    const locks = new UserLocks();
    const log: string[] = [];
    const job = (name: string, users: string[], fail = false) =>
      locks.run(users, async () => {
        log.push(`${name}+`);
        await tick();
        await tick();
        log.push(`${name}-`);
        if (fail) throw new Error(name);
        return name;
      });
    const a = job('a', ['x', 'y'], true);
    const b = job('b', ['z']);
    const c = job('c', ['y', 'z']);
    const d = job('d', ['x']);
    await expect(a).rejects.toThrow('a');
    expect(await Promise.all([b, c, d])).toEqual(['b', 'c', 'd']);
    // a and b overlap nothing, so both start at once; c waits for both (y and z), d for a only (x),
    // even though a failed.
    expect(log.indexOf('c+')).toBeGreaterThan(Math.max(log.indexOf('a-'), log.indexOf('b-')));
    expect(log.indexOf('d+')).toBeGreaterThan(log.indexOf('a-'));
    expect(log.indexOf('b+')).toBeLessThan(log.indexOf('a-'));
    await tick();
    expect(locks.size).toBe(0);
  });
});
