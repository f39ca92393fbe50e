import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSynthetic } from '../data/synthetic.js';
import { trainModel } from '../jobs/train.js';
import { loadModel, saveModel } from './model-io.js';
import { MODEL_TYPES } from './recommender.js';

let root: string;
beforeAll(async () => { root = await mkdtemp(join(tmpdir(), 'rtrec-model-io-')); });
afterAll(async () => { await rm(root, { recursive: true, force: true }); });

const dataset = generateSynthetic({ numUsers: 120, numItems: 80, numInteractions: 2400, rank: 4, explicit: true, seed: 5 });

describe('saveModel / loadModel', () => {
  for (const type of MODEL_TYPES) {
    it(`round-trips a ${type} model: same ids, seen items and scores`, async () => {
      const model = await trainModel(dataset, { type, hyperParameters: type === 'als' || type === 'ials' ? { rank: 4, iterations: 3 } : {}, threads: 1 });
      const dir = join(root, type);
      await saveModel(dir, model);
      const back = await loadModel(dir);
      expect(back.info.type).toBe(type);
      expect(back.info.hyperParameters).toEqual(model.info.hyperParameters);
      expect(back.users.toArray()).toEqual(model.users.toArray());
      expect(back.items.toArray()).toEqual(model.items.toArray());
      expect(Array.from(back.seen.indices)).toEqual(Array.from(model.seen.indices));
      expect(back.itemMetadata?.byId.get(model.items.idOf(3))).toEqual(model.itemMetadata?.byId.get(model.items.idOf(3)));
      for (const u of [0, 17, 119]) {
        const a = model.recommend(u, { k: 10 });
        const b = back.recommend(u, { k: 10 });
        expect(Array.from(b.items)).toEqual(Array.from(a.items));
        expect(Array.from(b.scores)).toEqual(Array.from(a.scores));
      }
      expect(back.predict(3, 4)).toBe(model.predict(3, 4));
    });
  }

  it('round-trips the events watermark in the manifest, and leaves it out for a model without one', async () => {
    const model = await trainModel(dataset, { type: 'pop' });
    const plainDir = join(root, 'no-watermark');
    await saveModel(plainDir, model);
    expect((await loadModel(plainDir)).info.training.eventsWatermark).toBeUndefined();
    expect(await readFile(join(plainDir, 'manifest.json'), 'utf8')).not.toContain('eventsWatermark');
    const watermark = { through: '1767225600000-3', types: ['rating', 'view'], store: 'redis://cache:6379', exportedAt: '2026-01-01T00:00:00.000Z' };
    model.info = { ...model.info, training: { ...model.info.training, eventsWatermark: watermark } };
    const dir = join(root, 'watermark');
    await saveModel(dir, model);
    expect((await loadModel(dir)).info.training.eventsWatermark).toEqual(watermark);
  });

  it('refuses a folder without a manifest with a clear code', async () => {
    await expect(loadModel(join(root, 'nothing-here'))).rejects.toMatchObject({ code: 'RTREC_ERR_MODEL_NOT_FOUND' });
  });

  it('detects a damaged array file by its checksum', async () => {
    const model = await trainModel(dataset, { type: 'pop' });
    const dir = join(root, 'damaged');
    await saveModel(dir, model);
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as { seen: { indices: { file: string } } };
    const file = join(dir, manifest.seen.indices.file);
    const bytes = await readFile(file);
    bytes[0] ^= 0xff;
    await writeFile(file, bytes);
    await expect(loadModel(dir)).rejects.toMatchObject({ code: 'RTREC_ERR_MODEL_CORRUPT', message: expect.stringContaining('checksum') as unknown });
  });

  it('rejects a manifest from a newer format version', async () => {
    const model = await trainModel(dataset, { type: 'pop' });
    const dir = join(root, 'future');
    await saveModel(dir, model);
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, formatVersion: 99 }));
    await expect(loadModel(dir)).rejects.toMatchObject({ code: 'RTREC_ERR_MODEL_CORRUPT', message: expect.stringContaining('upgrade rtrec') as unknown });
  });
});
