import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadInteractionsFile } from '../data/load-interactions.js';
import type { EventLog, NewEvent, StoredEvent } from '../store/event-log.js';
import type { OnlineStore } from '../store/online-store.js';
import { openStore } from '../store/open-store.js';
import { loadEventConfig } from './event-config.js';
import { exportEventsCsv } from './event-export.js';

let dir: string;
let store: OnlineStore;
const T0 = Date.parse('2026-03-01T00:00:00Z');
let n = 0;
const ev = (userId: string, itemId: string, type: string, minutes: number, value?: number): NewEvent => ({ eventId: `x${++n}`, userId, itemId, type, ts: T0 + minutes * 60_000, ...(value === undefined ? {} : { value }) });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rtrec-export-'));
  store = await openStore(`lmdb://${join(dir, 'store')}`);
  await store.appendEvents([
    ev('ann', 'book', 'view', 0),
    ev('ann', 'book', 'purchase', 1),
    ev('ann', 'lamp', 'rating', 2, 4),
    ev('ann', 'lamp', 'view', 3),
    ev('ann', 'lamp', 'rating', 4, 2.5),
    ev('bob', 'book', 'click', 5),
    ev('bob', 'book', 'dislike', 6),
    ev('bob', 'sofa, big', 'dislike', 7),
    ev('bob', 'sofa, big', 'add_to_cart', 8),
    ev('cy', 'lamp', 'click', 120),
  ]);
});
afterAll(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

describe('exportEventsCsv', () => {
  it('writes one row per pair: latest rating, else summed weights since the last dislike', async () => {
    const out = join(dir, 'events.csv');
    const report = await exportEventsCsv(store, out, loadEventConfig(''), {});
    expect(report).toEqual({ events: 10, rows: 4, disliked: 1, through: '10' });
    const s = (min: number) => Math.floor((T0 + min * 60_000) / 1000);
    expect((await readFile(out, 'utf8')).split('\n')).toEqual([
      'userId,itemId,rating,timestamp',
      `ann,book,6,${s(1)}`,
      `ann,lamp,2.5,${s(4)}`,
      `bob,"sofa, big",3,${s(8)}`,
      `cy,lamp,2,${s(120)}`,
      '',
    ]);
  });

  it('leaves out a pair with only events of weight 0, without counting it as disliked', async () => {
    const out = join(dir, 'zero.csv');
    const report = await exportEventsCsv(store, out, loadEventConfig('click=0'), {});
    // cy's lamp had only a click: seen, no strength, no row; bob's book is the one disliked pair.
    expect(report).toEqual({ events: 10, rows: 3, disliked: 1, through: '10' });
    expect(await readFile(out, 'utf8')).not.toMatch(/^cy,/m);
  });

  it('keeps only the asked types, while dislikes still remove their pair', async () => {
    const out = join(dir, 'ratings.csv');
    const report = await exportEventsCsv(store, out, loadEventConfig(''), { types: new Set(['rating', 'add_to_cart']) });
    expect(report).toEqual({ events: 10, rows: 2, disliked: 1, through: '10' });
    const lines = (await readFile(out, 'utf8')).trim().split('\n').slice(1).map((l) => l.replace(/,\d+$/, ''));
    expect(lines).toEqual(['ann,lamp,2.5', 'bob,"sofa, big",3']);
  });

  it('honours --since and the configured weights, and the file loads as training data appended to a base file', async () => {
    const out = join(dir, 'recent.csv');
    const report = await exportEventsCsv(store, out, loadEventConfig('click=7'), { sinceTs: T0 + 60 * 60_000, header: false });
    expect(report.rows).toBe(1);
    // Only the last event is at or after --since: the export read through its position.
    expect(report.through).toBe('10');
    const base = join(dir, 'base.csv');
    await writeFile(base, `userId,itemId,rating,timestamp\nann,sofa,5,${Math.floor(T0 / 1000) - 86_400}\n${await readFile(out, 'utf8')}`);
    const loaded = await loadInteractionsFile(base);
    expect(loaded.length).toBe(2);
    expect(loaded.users.toArray()).toEqual(['ann', 'cy']);
    expect([...loaded.rating!]).toEqual([5, 7]);
  });

  it('leaves the previous export as it was when reading the log fails midway, and replaces it only when complete', async () => {
    const out = join(dir, 'kept', 'events.csv');
    let replacing = 0;
    await exportEventsCsv(store, out, loadEventConfig(''), { beforeReplace: () => Promise.resolve(void replacing++) });
    expect(replacing).toBe(1);
    const previous = await readFile(out, 'utf8');
    const failing = {
      async *scanEvents(): AsyncIterable<StoredEvent> {
        yield await Promise.resolve({ eventId: 'z', userId: 'zed', itemId: 'book', type: 'purchase', ts: T0, seq: '1' });
        throw new Error('store went away');
      },
    } as unknown as EventLog;
    await expect(exportEventsCsv(failing, out, loadEventConfig(''), { beforeReplace: () => Promise.resolve(void replacing++) })).rejects.toThrow('store went away');
    expect(replacing).toBe(1);
    expect(await readFile(out, 'utf8')).toBe(previous);
    expect(await readdir(join(dir, 'kept'))).toEqual(['events.csv']);
  });
});
