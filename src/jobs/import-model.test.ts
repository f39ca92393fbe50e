import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDataset } from '../data/load-dataset.js';
import type { Dataset } from '../data/interactions.js';
import { loadModel, saveModel } from '../models/model-io.js';
import { importSparkModel } from './import-model.js';
import { rejection } from '../../test/support/rejection.js';

// Training data (made up): ann rates m1 twice, the later rating (2) must be the seen value.
// Users in order of appearance: ann, bob, "c,d"; items: m1, m2, m3.
const TRAIN = ['userId,itemId,rating,timestamp', 'ann,m1,5,10', 'bob,m2,3,11', '"c,d",m1,4,12', 'ann,m1,2,13', 'ann,m2,1,14', '"c,d",m3,5,15'].join('\n');

// Hand-made Spark export, rank 2. Rows in another order than the data; "zed" is not in the data;
// m3 has no factor (zero vector expected).
const USER_FACTORS = ['id,f0,f1', 'bob,0.25,-1', '"c,d",3,0.5', 'zed,9,9', 'ann,1,2'].join('\n');
const ITEM_FACTORS = ['id,f0,f1', 'm2,-2,0.75', 'm1,0.5,-1'].join('\n');
const FACTORS: Record<string, [number, number]> = { ann: [1, 2], bob: [0.25, -1], 'c,d': [3, 0.5], m1: [0.5, -1], m2: [-2, 0.75] };

function exportJson(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    format: 'rtrec-spark-export',
    formatVersion: 1,
    model: 'als',
    implicit: false,
    hyperParameters: { rank: 2, iterations: 7, reg: 0.05, alpha: 1, nonnegative: false, seed: 3 },
    counts: { rows: 6, interactions: 5, users: 4, items: 2 },
    files: { userFactors: 'user_factors.csv', itemFactors: 'item_factors.csv', layout: 'file' },
    spark: { version: '4.0.5', master: 'local[2]' },
    timings: { fitSeconds: 1.5, totalSeconds: 9 },
    ...overrides,
  });
}

let dir: string;
let dataset: Dataset;

async function writeExport(name: string, files: Record<string, string>): Promise<string> {
  const out = join(dir, name);
  await mkdir(out, { recursive: true });
  for (const [file, text] of Object.entries(files)) {
    await mkdir(join(out, file, '..'), { recursive: true });
    await writeFile(join(out, file), text);
  }
  return out;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rtrec-import-model-'));
  await writeFile(join(dir, 'train.csv'), `${TRAIN}\n`);
  dataset = await loadDataset(join(dir, 'train.csv'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('importSparkModel', () => {
  it('places factors by original id in the data order; missing ids get zero vectors and a warning', async () => {
    const exportDir = await writeExport('basic', { 'export.json': exportJson(), 'user_factors.csv': USER_FACTORS, 'item_factors.csv': ITEM_FACTORS });
    const { model, missingUsers, missingItems, unknownUsers, warnings } = await importSparkModel(exportDir, dataset);

    expect(model.users.toArray()).toEqual(['ann', 'bob', 'c,d']);
    expect(model.items.toArray()).toEqual(['m1', 'm2', 'm3']);
    for (const user of ['ann', 'bob', 'c,d']) {
      for (const item of ['m1', 'm2']) {
        const [a, b] = FACTORS[user];
        const [c, d] = FACTORS[item];
        expect(model.predict(model.users.indexOf(user), model.items.indexOf(item))).toBeCloseTo(a * c + b * d, 6);
      }
    }
    // m3 has no Spark factor: zero vector, and explicit ALS predicts NaN for it (cold start, dropped).
    expect(model.predict(0, model.items.indexOf('m3'))).toBeNaN();
    expect([missingUsers, missingItems, unknownUsers]).toEqual([0, 1, 1]);
    expect(warnings.some((w) => w.includes('1 of 3 items') && w.includes('"m3"'))).toBe(true);
    expect(warnings.some((w) => w.includes('"zed"') && w.includes('ignored'))).toBe(true);
    // Counts in export.json (4 users, 2 items) differ from the data (3, 3).
    expect(warnings.some((w) => w.includes('same data'))).toBe(true);

    const info = model.info;
    expect(info.type).toBe('als');
    expect(info.training.engine).toBe('spark');
    expect(info.training.seconds).toBe(1.5);
    expect(info.training.iterations).toBe(7);
    expect(info.hyperParameters).toEqual({ rank: 2, iterations: 7, reg: 0.05, nonnegative: false, seed: 3 });
    expect(info.numInteractions).toBe(5);

    // Seen items as rtrec train builds them: ann's latest rating of m1 (2) replaced the first (5).
    const annM1 = model.seen.indices.subarray(model.seen.indptr[0], model.seen.indptr[1]).indexOf(0);
    expect(model.seen.data[model.seen.indptr[0] + annM1]).toBe(2);
    const recs = model.recommend(model.users.indexOf('bob'), { k: 3 });
    expect(Array.from(recs.items)).not.toContain(model.items.indexOf('m2'));
  });

  it('survives a save and load unchanged', async () => {
    const exportDir = await writeExport('roundtrip', { 'export.json': exportJson(), 'user_factors.csv': USER_FACTORS, 'item_factors.csv': ITEM_FACTORS });
    const { model } = await importSparkModel(exportDir, dataset);
    const modelDir = join(dir, 'model-roundtrip');
    await saveModel(modelDir, model);
    const loaded = await loadModel(modelDir);
    expect(loaded.info.training.engine).toBe('spark');
    expect(loaded.predict(2, 0)).toBe(model.predict(2, 0));
    expect(loaded.predict(1, 1)).toBe(model.predict(1, 1));
  });

  it('reads tables written by Spark executors: folders of part files, each with a header, some empty', async () => {
    const exportDir = await writeExport('parts', {
      'export.json': exportJson({ files: { userFactors: 'user_factors.csv', itemFactors: 'item_factors.csv', layout: 'folder' } }),
      'user_factors.csv/part-00000-abc.csv': 'id,f0,f1\nann,1,2\n',
      'user_factors.csv/part-00001-abc.csv': '',
      'user_factors.csv/part-00002-abc.csv': 'id,f0,f1\nbob,0.25,-1\n"c,d",3.0E0,5.0E-1\n',
      'user_factors.csv/_SUCCESS': '',
      'item_factors.csv/part-00000-abc.csv': 'id,f0,f1\nm2,-2,0.75\nm1,0.5,-1\nm3,1,1\n',
    });
    const { model, missingUsers, missingItems } = await importSparkModel(exportDir, dataset);
    expect([missingUsers, missingItems]).toEqual([0, 0]);
    expect(model.predict(model.users.indexOf('c,d'), model.items.indexOf('m3'))).toBeCloseTo(3 + 0.5, 6);
  });

  it('maps an implicit export to ials: its own defaults for the rest, no nonnegative, and a note on reg', async () => {
    const exportDir = await writeExport('implicit', {
      'export.json': exportJson({ model: 'ials', implicit: true, hyperParameters: { rank: 2, iterations: 4, reg: 0.2, alpha: 5, nonnegative: false, seed: 1 } }),
      'user_factors.csv': USER_FACTORS,
      'item_factors.csv': ITEM_FACTORS,
    });
    const { model, warnings } = await importSparkModel(exportDir, dataset);
    expect(model.info.type).toBe('ials');
    expect(model.info.hyperParameters).toMatchObject({ rank: 2, iterations: 4, reg: 0.2, alpha: 5, seed: 1 });
    expect(model.info.hyperParameters).toHaveProperty('cgSteps');
    expect(model.info.hyperParameters).not.toHaveProperty('nonnegative');
    expect(warnings.some((w) => w.includes('scales reg'))).toBe(true);
    // ials scores are plain dot products, including zero-vector items.
    expect(model.predict(0, model.items.indexOf('m3'))).toBe(0);
  });

  it('rejects an export of another type than asked for', async () => {
    const exportDir = await writeExport('typed', { 'export.json': exportJson(), 'user_factors.csv': USER_FACTORS, 'item_factors.csv': ITEM_FACTORS });
    const err = await rejection(importSparkModel(exportDir, dataset, { expectType: 'ials' }));
    expect(err.code).toBe('RTREC_ERR_CONFIG_INVALID');
  });

  it('a missing export.json is MODEL_NOT_FOUND naming the file', async () => {
    const err = await rejection(importSparkModel(join(dir, 'absent'), dataset));
    expect(err.code).toBe('RTREC_ERR_MODEL_NOT_FOUND');
    expect(err.message).toContain(join(dir, 'absent', 'export.json'));
  });

  const broken: [string, Record<string, string>, RegExp][] = [
    ['a foreign export.json', { 'export.json': '{"format":"something-else"}' }, /not an rtrec Spark export/],
    ['a newer format version', { 'export.json': exportJson({ formatVersion: 99 }) }, /newer than this rtrec/],
    ['a header of another rank', { 'user_factors.csv': 'id,f0,f1,f2\nann,1,2,3\n' }, /user_factors\.csv:1: header must be id,f0,…,f1/],
    ['a short row', { 'user_factors.csv': 'id,f0,f1\nann,1\n' }, /user_factors\.csv:2: expected 3 columns, got 2/],
    ['a value that is not a number', { 'item_factors.csv': 'id,f0,f1\nm1,0.5,NaN\n' }, /item_factors\.csv:2: f1 of "m1" is not a finite number/],
    ['an empty value', { 'item_factors.csv': 'id,f0,f1\nm1,,1\n' }, /item_factors\.csv:2: f0 of "m1"/],
    ['an id twice', { 'user_factors.csv': 'id,f0,f1\nann,1,2\nbob,1,1\nann,1,2\n' }, /user_factors\.csv:4: id "ann" appears twice/],
  ];
  it.each(broken)('%s is MODEL_CORRUPT with file and line', async (name, files, message) => {
    const exportDir = await writeExport(`broken-${name.replaceAll(' ', '-')}`, {
      'export.json': exportJson(),
      'user_factors.csv': USER_FACTORS,
      'item_factors.csv': ITEM_FACTORS,
      ...files,
    });
    const err = await rejection(importSparkModel(exportDir, dataset));
    expect(err.code).toBe('RTREC_ERR_MODEL_CORRUPT');
    expect(err.message).toMatch(message);
  });

  it('a missing factor table is MODEL_CORRUPT naming it', async () => {
    const exportDir = await writeExport('no-items', { 'export.json': exportJson(), 'user_factors.csv': USER_FACTORS });
    const err = await rejection(importSparkModel(exportDir, dataset));
    expect(err.code).toBe('RTREC_ERR_MODEL_CORRUPT');
    expect(err.message).toContain('item_factors.csv');
  });
});
