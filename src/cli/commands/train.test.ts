import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEventConfig } from '../../events/event-config.js';
import { exportEventsCsv } from '../../events/event-export.js';
import { writeExportSidecar } from '../../events/export-sidecar.js';
import { readManifest } from '../../models/model-io.js';
import { openStore } from '../../store/open-store.js';
import { runCommand } from '../test-support/run-command.js';
import { registerTrainCommand } from './train.js';

let dir: string;
let base: string;
let events: string;
let storeUrl: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rtrec-train-cli-'));
  base = join(dir, 'base.csv');
  let text = 'userId,itemId,rating,timestamp\n';
  for (let u = 0; u < 12; u++) for (let j = 0; j < 3; j++) text += `u${u},i${(u + 3 * j) % 9},${1 + ((u + j) % 4)},${1_600_000_000 + u}\n`;
  await writeFile(base, text);
  storeUrl = `lmdb://${join(dir, 'store')}`;
  const store = await openStore(storeUrl);
  try {
    await store.appendEvents([
      { eventId: 'a', userId: 'u1', itemId: 'i4', type: 'rating', value: 4, ts: Date.parse('2026-01-01T00:00:00Z') },
      { eventId: 'b', userId: 'new', itemId: 'i2', type: 'purchase', ts: Date.parse('2026-01-02T00:00:00Z') },
    ]);
    events = join(dir, 'events.csv');
    const report = await exportEventsCsv(store, events, loadEventConfig(''));
    await writeExportSidecar(events, { through: report.through, since: Date.parse('2025-12-31'), store: store.description, events: report.events, rows: report.rows });
  } finally {
    await store.close();
  }
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function train(...args: string[]): Promise<{ json: Record<string, unknown>; stderr: string }> {
  const { stdout, stderr } = await runCommand(registerTrainCommand, ['train', '--model', 'ease', ...args]);
  return { json: args.includes('--json') ? (JSON.parse(stdout) as Record<string, unknown>) : {}, stderr };
}

describe('rtrec train with an event-log export', () => {
  it('records the export’s watermark in the model manifest', async () => {
    const out = join(dir, 'model');
    const { json } = await train('--data', base, '--data', events, '--out', out, '--json');
    const expected = { through: '2', since: Date.parse('2025-12-31'), store: storeUrl };
    expect(json.eventsWatermark).toMatchObject(expected);
    expect((await readManifest(out)).training.eventsWatermark).toMatchObject(expected);
  });

  it('records none without an export record, with two exports, or when the CSV changed since the export (and says why)', async () => {
    const plain = join(dir, 'plain');
    await train('--data', base, '--out', plain);
    expect((await readManifest(plain)).training.eventsWatermark).toBeUndefined();

    const copy = join(dir, 'events-2.csv');
    await writeFile(copy, await readFile(events));
    await writeExportSidecar(copy, { through: '1', store: storeUrl, events: 1, rows: 1 });
    const two = join(dir, 'two');
    const { stderr } = await train('--data', base, '--data', events, '--data', copy, '--out', two);
    expect(stderr).toContain('are all event-log exports: no events watermark');
    expect((await readManifest(two)).training.eventsWatermark).toBeUndefined();

    await appendFile(copy, 'u3,i1,2,1767225600\n');
    const changed = join(dir, 'changed');
    const printed = await train('--data', base, '--data', copy, '--out', changed);
    expect(printed.stderr).toContain('changed since the export');
    expect((await readManifest(changed)).training.eventsWatermark).toBeUndefined();
  });
});

describe('rtrec train --out and --test checks', () => {
  it('refuses to replace a folder that is not a model folder, before training, and replaces a model folder', async () => {
    const project = join(dir, 'project');
    await mkdir(project, { recursive: true });
    await writeFile(join(project, 'notes.txt'), 'important');
    await expect(train('--data', base, '--out', project)).rejects.toMatchObject({ code: 'RTREC_ERR_CONFIG_INVALID', message: expect.stringMatching(/--out .*project holds files that are not a model's \(notes\.txt\)/) as string });
    expect(await readFile(join(project, 'notes.txt'), 'utf8')).toBe('important');
    await expect(train('--data', base, '--out', join(dir, 'base.csv'))).rejects.toMatchObject({ code: 'RTREC_ERR_CONFIG_INVALID', message: expect.stringMatching(/is a file/) as string });
    const model = join(dir, 'retrained');
    await train('--data', base, '--out', model);
    await train('--data', base, '--out', model);
    expect((await readManifest(model)).type).toBe('ease');
  });

  it('checks that --test exists before training', async () => {
    const out = join(dir, 'never-written');
    await expect(train('--data', base, '--test', join(dir, 'typo.csv'), '--out', out)).rejects.toMatchObject({ code: 'RTREC_ERR_DATA_NOT_FOUND' });
    await expect(readFile(join(out, 'manifest.json'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
