import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCommand } from '../test-support/run-command.js';
import { readExportSidecar } from '../../events/export-sidecar.js';
import type { StoredEvent } from '../../store/event-log.js';
import { openStore } from '../../store/open-store.js';
import { VersionedStore } from '../../store/versioned-store.js';
import { registerEventsCommand } from './events.js';

let dir: string;
let storeUrl: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rtrec-events-cli-'));
  storeUrl = `lmdb://${join(dir, 'store')}`;
  const store = await openStore(storeUrl);
  await store.appendEvents([
    { eventId: 'a', userId: 'u1', itemId: 'i1', type: 'view', ts: Date.parse('2026-01-01T00:00:00Z') },
    { eventId: 'b', userId: 'u1', itemId: 'i2', type: 'purchase', ts: Date.parse('2026-01-03T00:00:00Z') },
  ]);
  await store.close();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function cli(...args: string[]): Promise<string> {
  return (await runCommand(registerEventsCommand, args)).stdout;
}

describe('rtrec events export', () => {
  it('records beside the CSV the log position read through, the filters and the CSV hash; replaces a stale record', async () => {
    const out = join(dir, 'recorded.csv');
    await writeFile(`${out}.rtrec-events.json`, '{"stale": true}');
    const printed = JSON.parse(await cli('events', 'export', '--store', storeUrl, '--out', out, '--json')) as { record: string };
    expect(printed.record).toBe(`${out}.rtrec-events.json`);
    const record = JSON.parse(await readFile(printed.record, 'utf8')) as Record<string, unknown>;
    // LMDB positions are the log's sequence numbers: the two events are 1 and 2.
    expect(record).toMatchObject({ format: 'rtrec-events-export', logThrough: '2', store: storeUrl, events: 2, rows: 2 });
    expect(record.since).toBeUndefined();
    expect(record.sha256).toBe(createHash('sha256').update(await readFile(out)).digest('hex'));
    // The store's identity, created by the first export and kept in the store.
    const store = await openStore(storeUrl);
    const storeId = await store.storeId();
    await store.close();
    expect(storeId).toMatch(/^[0-9a-f-]{36}$/);
    expect(record.storeId).toBe(storeId);
    const reading = await readExportSidecar(out);
    expect(reading).toMatchObject({ kind: 'watermark', watermark: { through: '2', store: storeUrl, storeId } });

    const filtered = join(dir, 'filtered.csv');
    const text = await cli('events', 'export', '--store', storeUrl, '--out', filtered, '--since', '2026-01-02', '--types', 'purchase');
    expect(text).toContain('log read through position 2');
    expect(JSON.parse(await readFile(`${filtered}.rtrec-events.json`, 'utf8'))).toMatchObject({ logThrough: '2', since: Date.parse('2026-01-02'), types: ['purchase'] });

    const none = join(dir, 'none.csv');
    await cli('events', 'export', '--store', storeUrl, '--out', none, '--since', '2030-01-01');
    expect(JSON.parse(await readFile(`${none}.rtrec-events.json`, 'utf8'))).toMatchObject({ logThrough: null, events: 0 });
    expect(await readExportSidecar(none)).toEqual({ kind: 'empty' });
  });

  it('writes the log since a time with the configured weights, and reports counts as JSON', async () => {
    const out = join(dir, 'out.csv');
    const printed = await cli('events', 'export', '--store', storeUrl, '--out', out, '--since', '2026-01-02', '--event-weights', 'purchase=4', '--json');
    expect(JSON.parse(printed)).toMatchObject({ events: 1, rows: 1, disliked: 0, out });
    expect(await readFile(out, 'utf8')).toBe(`userId,itemId,rating,timestamp\nu1,i2,4,${Date.parse('2026-01-03T00:00:00Z') / 1000}\n`);
    await cli('events', 'export', '--store', storeUrl, '--out', out, '--no-header');
    expect((await readFile(out, 'utf8')).split('\n')).toHaveLength(3);
  });

  it('leaves the previous export and its record as they were when an export fails midway', async () => {
    const out = join(dir, 'kept.csv');
    await cli('events', 'export', '--store', storeUrl, '--out', out);
    const [csv, record] = await Promise.all([readFile(out, 'utf8'), readFile(`${out}.rtrec-events.json`, 'utf8')]);
    const scan = vi.spyOn(VersionedStore.prototype, 'scanEvents').mockImplementation(async function* (): AsyncGenerator<StoredEvent> {
      yield await Promise.resolve({ eventId: 'a', userId: 'u1', itemId: 'i1', type: 'view', ts: 1, seq: '1' });
      throw new Error('store went away');
    });
    try {
      await expect(cli('events', 'export', '--store', storeUrl, '--out', out)).rejects.toThrow('store went away');
    } finally {
      scan.mockRestore();
    }
    expect(await readFile(out, 'utf8')).toBe(csv);
    expect(await readFile(`${out}.rtrec-events.json`, 'utf8')).toBe(record);
    expect(await readExportSidecar(out)).toMatchObject({ kind: 'watermark' });
  });

  it('refuses a malformed --since and unknown --types', async () => {
    await expect(cli('events', 'export', '--store', storeUrl, '--out', join(dir, 'x.csv'), '--since', 'last week')).rejects.toMatchObject({ code: 'RTREC_ERR_CONFIG_INVALID' });
    // An impossible date is refused, not rolled into March.
    await expect(cli('events', 'export', '--store', storeUrl, '--out', join(dir, 'x.csv'), '--since', '2026-02-30')).rejects.toMatchObject({ code: 'RTREC_ERR_CONFIG_INVALID' });
    await expect(cli('events', 'export', '--store', storeUrl, '--out', join(dir, 'x.csv'), '--types', 'rating,like')).rejects.toMatchObject({ code: 'RTREC_ERR_CONFIG_INVALID' });
    await expect(cli('events', 'export', '--store', storeUrl, '--out', join(dir, 'x.csv'), '--event-weights', 'view')).rejects.toMatchObject({ code: 'RTREC_ERR_CONFIG_INVALID', message: expect.stringMatching(/^--event-weights: "view" is not type=weight/) as string });
    const printed = await cli('events', 'export', '--store', storeUrl, '--out', join(dir, 'x.csv'), '--types', 'view', '--json');
    expect(JSON.parse(printed)).toMatchObject({ events: 2, rows: 1 });
  });
});
