import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../core/rng.js';
import { InteractionsBuilder, selectRows, type Interactions } from './interactions.js';
import { loadInteractionsFile } from './load-interactions.js';
import { formatFloat32, writeInteractionsCsv } from './write-interactions.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rtrec-write-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function rowsOf(x: Interactions): unknown[][] {
  return Array.from({ length: x.length }, (_, i) => [x.users.idOf(x.user[i]), x.items.idOf(x.item[i]), x.rating?.[i] ?? null, x.timestamp?.[i] ?? null]);
}

describe('formatFloat32', () => {
  it('prints the shortest decimal that reads back to the same float32', () => {
    expect(formatFloat32(4)).toBe('4');
    expect(formatFloat32(3.5)).toBe('3.5');
    expect(formatFloat32(Math.fround(0.1))).toBe('0.1');
    expect(formatFloat32(Math.fround(1 / 3))).toBe('0.33333334');
    const rng = createRng(7);
    for (let n = 0; n < 2000; n++) {
      const f = Math.fround((rng.next() - 0.5) * 10 ** (rng.int(20) - 10));
      const s = formatFloat32(f);
      expect(Math.fround(Number(s))).toBe(f);
      // Independent check of minimality: no decimal with fewer significant digits (leading and
      // trailing zeros are not significant) reads back to f.
      const digits = s.replace(/^-/, '').replace(/e.*$/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '').length;
      for (let d = 1; d < digits; d++) expect(Math.fround(Number(f.toPrecision(d)))).not.toBe(f);
    }
  });
});

describe('writeInteractionsCsv', () => {
  it('round-trips exactly through the generic loader (tricky ids, float32 ratings, fractional times)', async () => {
    const rng = createRng(11);
    const userIds = ['plain', 'a,b', 'say "hi"', 'two\nlines', 'Zoë', '  spaced  ', '007'];
    const itemIds = ['i1', 'i,2', '"', 'ünï', '12" single'];
    const b = new InteractionsBuilder({ hasRating: true, hasTimestamp: true });
    for (let n = 0; n < 500; n++) {
      const t = n % 3 === 0 ? 1.6e9 + n + 0.125 : 1.6e9 + rng.int(1e6);
      b.add(userIds[rng.int(userIds.length)], itemIds[rng.int(itemIds.length)], (rng.next() - 0.3) * 10 ** rng.int(6), t);
    }
    const original = b.build();
    const path = join(dir, 'round.csv');
    await writeInteractionsCsv(path, original);
    const back = await loadInteractionsFile(path);
    expect(rowsOf(back)).toEqual(rowsOf(original));
    expect(Array.from(back.rating!).every((r, i) => Object.is(r, original.rating![i]))).toBe(true);
    expect((await readFile(path, 'utf8')).split('\n')[0]).toBe('userId,itemId,rating,timestamp');
  });

  it('omits absent columns and writes only the selected rows of shared id maps', async () => {
    const b = new InteractionsBuilder({ hasRating: false, hasTimestamp: false });
    b.add('u1', 'x');
    b.add('u2', 'y');
    b.add('u3', 'z');
    const subset = selectRows(b.build(), [2, 0]);
    const path = join(dir, 'implicit.csv');
    await writeInteractionsCsv(path, subset);
    expect(await readFile(path, 'utf8')).toBe('userId,itemId\nu3,z\nu1,x\n');
    const back = await loadInteractionsFile(path);
    expect(back.rating).toBeNull();
    expect(rowsOf(back)).toEqual(rowsOf(subset));
  });

  it('can drop columns on request', async () => {
    const b = new InteractionsBuilder({ hasRating: true, hasTimestamp: true });
    b.add('u', 'i', 2.5, 42);
    const path = join(dir, 'dropped.csv');
    await writeInteractionsCsv(path, b.build(), { timestamp: false });
    expect(await readFile(path, 'utf8')).toBe('userId,itemId,rating\nu,i,2.5\n');
  });

  it('leaves no temporary file behind when the final rename fails', async () => {
    const target = join(dir, 'occupied');
    await mkdir(join(target, 'child'), { recursive: true });
    const b = new InteractionsBuilder({ hasRating: false, hasTimestamp: false });
    b.add('u', 'i');
    await expect(writeInteractionsCsv(target, b.build())).rejects.toThrow();
    expect((await readdir(dir)).filter((name) => name.includes('.tmp-'))).toEqual([]);
    expect(await readdir(target)).toEqual(['child']);
  });
});
