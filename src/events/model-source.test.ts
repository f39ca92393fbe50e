import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveModel } from '../models/model-io.js';
import type { VersionRecord } from '../store/online-store.js';
import { modelDirSource, type ServedVersion } from './model-source.js';
import { explicitAlsModel, type ExplicitAls } from './test-support/explicit-als.js';

describe('modelDirSource', () => {
  let dir: string;
  let als: ExplicitAls;
  let served: ServedVersion;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rtrec-model-source-'));
    als = await explicitAlsModel(20, 15, 3);
    await saveModel(dir, als.model);
    const { model } = als;
    served = {
      version: 1,
      record: { meta: { modelCreatedAt: model.info.createdAt, dataFingerprint: model.info.training.dataFingerprint } } as unknown as VersionRecord,
      catalog: { ids: Array.from({ length: model.numItems }, (_, i) => model.items.idOf(i)), metadata: [] },
    };
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('gives the model to every caller while the first load is still under way', async () => {
    const source = modelDirSource(dir);
    // The second call starts while the first one's load is in flight (as the rebuild at activation
    // and the first event do at start-up).
    const lookups = await Promise.all([source.modelFor(served), source.modelFor(served), source.modelFor(served)]);
    for (const l of lookups) expect(l.model, l.model ? '' : l.reason).toBeDefined();
  });

  it('says why when the folder is not the served version\u2019s model', async () => {
    const source = modelDirSource(dir);
    const other = { ...served, record: { meta: { modelCreatedAt: 'another time', dataFingerprint: 'x' } } as unknown as VersionRecord };
    const lookup = await source.modelFor(other);
    expect(lookup.model).toBeUndefined();
    expect(lookup.model ? '' : lookup.reason).toMatch(/is not the model of version 1/);
  });
});
