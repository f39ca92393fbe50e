import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeOnEachStore } from '../../test/support/each-store.js';
import { concatInteractions } from '../data/interactions.js';
import { loadDataset } from '../data/load-dataset.js';
import { publishModel } from '../jobs/publish.js';
import { trainModel } from '../jobs/train.js';
import { EVENTS_WATERMARK_META } from '../models/manifest.js';
import type { TrainedModel } from '../models/trained-model.js';
import type { NewEvent } from '../store/event-log.js';
import type { OnlineStore } from '../store/online-store.js';
import { openStore } from '../store/open-store.js';
import { loadEventConfig } from './event-config.js';
import { exportEventsCsv } from './event-export.js';
import { trainingWatermark, writeExportSidecar } from './export-sidecar.js';
import { fixedModelSource } from './model-source.js';
import { updateTargetOf } from './test-support/update-target.js';
import { OnlineUpdater, type UpdateTarget } from './online-updater.js';

const K = 5;
const ITEMS = 12;
const config = loadEventConfig('');
const BASE_TS = 1_600_000_000;
const EVENT_MS = Date.parse('2026-02-01T00:00:00Z');

/** Made-up base data: user u gets items (u + 2j) mod ITEMS, values 1–3, all long before the events. */
function baseCsv(): string {
  let text = 'userId,itemId,rating,timestamp\n';
  for (let u = 0; u < 16; u++) for (let j = 0; j < 4; j++) text += `u${u},i${(u + 2 * j) % ITEMS},${1 + ((u + j) % 3)},${BASE_TS + u}\n`;
  return text;
}

/**
 * Independent reference for EASE without binarising: score_j = Σ_i x_i·B[i, j] over the given
 * interactions, interacted and excluded items left out; the best `k` item ids, and their scores.
 */
function reference(model: TrainedModel, x: ReadonlyMap<string, number>, exclude: ReadonlySet<string>, k: number): { items: string[]; scores: number[] } {
  const n = model.numItems;
  const { weights } = model.recommender.exportState().arrays as { weights: Float32Array };
  const scored: { item: string; score: number }[] = [];
  for (let j = 0; j < n; j++) {
    const id = model.items.idOf(j);
    if (x.has(id) || exclude.has(id)) continue;
    let s = 0;
    for (const [item, value] of x) s += value * weights[model.items.indexOf(item) * n + j];
    scored.push({ item: id, score: s });
  }
  scored.sort((a, b) => b.score - a.score || model.items.indexOf(a.item) - model.items.indexOf(b.item));
  const top = scored.slice(0, k);
  return { items: top.map((t) => t.item), scores: top.map((t) => t.score) };
}

/** The user's training row in the model, item id → value. */
function trainingRow(model: TrainedModel, userId: string): Map<string, number> {
  const u = model.users.indexOf(userId);
  const { indptr, indices, data } = model.seen;
  const row = new Map<string, number>();
  for (let p = indptr[u]; p < indptr[u + 1]; p++) row.set(model.items.idOf(indices[p]), data[p]);
  return row;
}

function watermarkSuite(freshUrl: () => Promise<string>): void {
  let dir: string;
  let store: OnlineStore;
  let model: TrainedModel;
  let n = 0;
  const ev = (userId: string, itemId: string, type: string, value?: number): NewEvent => ({ eventId: `w${++n}`, userId, itemId, type, ts: EVENT_MS + n * 1000, ...(value === undefined ? {} : { value }) });
  const targetOf = (version: number): Promise<UpdateTarget> => updateTargetOf(store, version);
  const listOf = async (version: number, userId: string) => {
    const r = await store.getUserRecs(version, userId);
    expect(r).toBeDefined();
    return { items: [...r!.items].map((i) => model.items.idOf(i)), scores: [...r!.scores] };
  };
  const expectList = (actual: { items: string[]; scores: number[] }, expected: { items: string[]; scores: number[] }) => {
    expect(actual.items).toEqual(expected.items);
    actual.scores.forEach((s, j) => expect(s).toBeCloseTo(expected.scores[j], 4));
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rtrec-watermark-'));
    store = await openStore(await freshUrl());
    // Logged before the nightly export: u1 dislikes i1 (a training item) and then buys it, and rates i9;
    // u2 dislikes i2 (a training item) for good.
    await store.appendEvents([ev('u1', 'i1', 'dislike'), ev('u1', 'i1', 'purchase'), ev('u1', 'i9', 'rating', 4), ev('u2', 'i2', 'dislike')]);
    // The nightly flow: export (with its record), train on base + export, publish.
    const base = join(dir, 'base.csv');
    const events = join(dir, 'events.csv');
    await writeFile(base, baseCsv());
    const report = await exportEventsCsv(store, events, config);
    await writeExportSidecar(events, { through: report.through, store: store.description, events: report.events, rows: report.rows });
    const first = await loadDataset(base);
    const next = await loadDataset(events, { users: first.interactions.users, items: first.interactions.items });
    model = await trainModel({ interactions: concatInteractions([first.interactions, next.interactions]), itemMetadata: null, source: 'test' }, { type: 'ease', hyperParameters: { lambda: 2, binarize: false } });
    const { watermark } = await trainingWatermark([base, events]);
    expect(watermark?.through).toBe(report.through);
    model.info = { ...model.info, training: { ...model.info.training, eventsWatermark: watermark } };
  });
  afterAll(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('the model learned the exported events: u1 has i1 = 5 (bought after the dislike) and i9 = 4; u2 keeps its training i2', () => {
    expect(trainingRow(model, 'u1').get('i1')).toBe(5);
    expect(trainingRow(model, 'u1').get('i9')).toBe(4);
    expect(trainingRow(model, 'u2').has('i2')).toBe(true);
  });

  it('rebuild and later events: learned events are not applied again, a learned dislike still excludes, a new event is applied', async () => {
    const { version } = await publishModel(model, store, { topK: K, similarK: 3, progress: false });
    const target = await targetOf(version);
    expect(JSON.parse(String(target.record.meta[EVENTS_WATERMARK_META]))).toEqual(model.info.training.eventsWatermark);
    const updater = new OnlineUpdater(store, config, fixedModelSource(model));
    expect(await updater.rebuild(target)).toBe(2);
    // u1: the training row as learned (applying the dislike again would drop i1 and exclude it).
    expectList(await listOf(version, 'u1'), reference(model, trainingRow(model, 'u1'), new Set(), K));
    // u2: the export left the disliked pair out, so the dislike is still applied to the training row.
    const u2 = trainingRow(model, 'u2');
    u2.delete('i2');
    expectList(await listOf(version, 'u2'), reference(model, u2, new Set(['i2']), K));
    // An event logged after the export is folded in on top of the training row.
    const out = await updater.ingest(target, [ev('u1', 'i11', 'rating', 3)]);
    expect(out).toMatchObject({ updatedUsers: 1, version });
    const u1 = trainingRow(model, 'u1');
    expect(u1.has('i11')).toBe(false);
    u1.set('i11', 3);
    expectList(await listOf(version, 'u1'), reference(model, u1, new Set(), K));
    // A fresh updater (another instance, empty fold cache) reads the whole log and agrees.
    await new OnlineUpdater(store, config, fixedModelSource(model)).updateUsers(target, ['u1']);
    expectList(await listOf(version, 'u1'), reference(model, u1, new Set(), K));
  });

  it('a version without the watermark folds the exported events in again (the double count the watermark prevents)', async () => {
    const withWatermark = model.info;
    const training = { ...withWatermark.training };
    delete training.eventsWatermark;
    model.info = { ...withWatermark, training };
    let version: number;
    try {
      ({ version } = await publishModel(model, store, { topK: K, similarK: 3, progress: false }));
    } finally {
      model.info = withWatermark;
    }
    const target = await targetOf(version);
    expect(target.record.meta[EVENTS_WATERMARK_META]).toBeUndefined();
    await new OnlineUpdater(store, config, fixedModelSource(model)).rebuild(target);
    // The dislike is applied again: i1 leaves u1's row and stays excluded (the later purchase does not bring back a rating).
    const u1 = trainingRow(model, 'u1');
    u1.delete('i1');
    u1.set('i11', 3);
    expectList(await listOf(version, 'u1'), reference(model, u1, new Set(['i1']), K));
  });
}

describeOnEachStore('OnlineUpdater with an events watermark', watermarkSuite);
