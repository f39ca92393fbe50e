import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../test-support/run-command.js';
import { openStore } from '../../store/open-store.js';
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
  it('writes the log since a time with the configured weights, and reports counts as JSON', async () => {
    const out = join(dir, 'out.csv');
    const printed = await cli('events', 'export', '--store', storeUrl, '--out', out, '--since', '2026-01-02', '--event-weights', 'purchase=4', '--json');
    expect(JSON.parse(printed)).toMatchObject({ events: 1, rows: 1, disliked: 0, out });
    expect(await readFile(out, 'utf8')).toBe(`userId,itemId,rating,timestamp\nu1,i2,4,${Date.parse('2026-01-03T00:00:00Z') / 1000}\n`);
    await cli('events', 'export', '--store', storeUrl, '--out', out, '--no-header');
    expect((await readFile(out, 'utf8')).split('\n')).toHaveLength(3);
  });

  it('refuses a malformed --since and unknown --types', async () => {
    await expect(cli('events', 'export', '--store', storeUrl, '--out', join(dir, 'x.csv'), '--since', 'last week')).rejects.toMatchObject({ code: 'RTREC_ERR_CONFIG_INVALID' });
    await expect(cli('events', 'export', '--store', storeUrl, '--out', join(dir, 'x.csv'), '--types', 'rating,like')).rejects.toMatchObject({ code: 'RTREC_ERR_CONFIG_INVALID' });
    const printed = await cli('events', 'export', '--store', storeUrl, '--out', join(dir, 'x.csv'), '--types', 'view', '--json');
    expect(JSON.parse(printed)).toMatchObject({ events: 2, rows: 1 });
  });
});
