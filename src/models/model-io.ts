/**
 * @module Model folders on disk: `manifest.json`, `user-ids.json`, `item-ids.json`, optional
 * `item-metadata.json`, and one little-endian binary file per typed array (`*.f32`, `*.i32`) with
 * its sha256 in the manifest. Saving is atomic (temp folder + rename); loading checks every file
 * against the manifest and never touches the training data.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CsrMatrix } from '../core/csr.js';
import { RecError } from '../core/errors.js';
import { IdMap } from '../core/ids.js';
import { checkReplaceableFolder, writeDirAtomic } from '../core/atomic-fs.js';
import type { ItemMetadata } from '../data/interactions.js';
import { MANIFEST_FILE, MODEL_FORMAT, MODEL_FORMAT_VERSION, type ArrayDType, type ArrayEntry, type ModelManifest } from './manifest.js';
import { getFactory } from './registry.js';
import { TrainedModel } from './trained-model.js';

const USER_IDS_FILE = 'user-ids.json';
const ITEM_IDS_FILE = 'item-ids.json';
const ITEM_METADATA_FILE = 'item-metadata.json';

type NumericArray = Float32Array | Int32Array;

function dtypeOf(arr: NumericArray): ArrayDType {
  return arr instanceof Float32Array ? 'f32' : 'i32';
}

function bytesOf(arr: NumericArray): Uint8Array {
  return new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
}

async function writeArray(dir: string, name: string, arr: NumericArray): Promise<ArrayEntry> {
  const dtype = dtypeOf(arr);
  const file = `${name}.${dtype}`;
  const bytes = bytesOf(arr);
  await writeFile(join(dir, file), bytes);
  return { file, dtype, length: arr.length, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/**
 * Refuses a `dir` that saving a model would destroy: a model folder is replaced as a whole (that is
 * what makes the save atomic), so only a missing or empty folder, or a model folder, may be given.
 * Commands call it before their long work; `what` names the folder in the message (e.g. the flag).
 * @throws RTREC_ERR_CONFIG_INVALID
 */
export function checkModelFolderReplaceable(dir: string, what = dir): Promise<void> {
  return checkReplaceableFolder(dir, {
    what,
    foreign: (entries) => (entries.includes(MANIFEST_FILE) ? [] : entries),
    described: "files that are not a model's",
    advice: 'a new or empty folder, or a model folder',
  });
}

/** Writes `model` to `dir` atomically: its info plus the array files and their checksums. */
export async function saveModel(dir: string, model: TrainedModel): Promise<void> {
  await checkModelFolderReplaceable(dir);
  const state = model.recommender.exportState();
  await writeDirAtomic(dir, async (tmp) => {
    const arrays: Record<string, ArrayEntry> = {};
    for (const [name, arr] of Object.entries(state.arrays)) arrays[name] = await writeArray(tmp, `state-${name}`, arr);
    const seen = {
      indptr: await writeArray(tmp, 'seen-indptr', model.seen.indptr),
      indices: await writeArray(tmp, 'seen-indices', model.seen.indices),
      data: await writeArray(tmp, 'seen-data', model.seen.data),
    };
    await writeFile(join(tmp, USER_IDS_FILE), JSON.stringify(model.users.toArray().slice(0, model.numUsers)));
    await writeFile(join(tmp, ITEM_IDS_FILE), JSON.stringify(model.items.toArray().slice(0, model.numItems)));
    if (model.itemMetadata) {
      await writeFile(join(tmp, ITEM_METADATA_FILE), JSON.stringify(Object.fromEntries(model.itemMetadata.byId)));
    }
    const manifest: ModelManifest = {
      ...model.info,
      values: state.values,
      arrays,
      seen,
      itemMetadataFields: model.itemMetadata?.fields ?? [],
    };
    await writeFile(join(tmp, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  });
}

/** Loads a model folder written by saveModel (or by the Spark job's exporter). */
export async function loadModel(dir: string): Promise<TrainedModel> {
  const manifest = await readManifest(dir);
  const factory = getFactory(manifest.type);
  const arrays: Record<string, NumericArray> = {};
  for (const [name, entry] of Object.entries(manifest.arrays)) arrays[name] = await readArray(dir, entry);
  const seen: CsrMatrix = {
    rows: manifest.numUsers,
    cols: manifest.numItems,
    indptr: (await readArray(dir, manifest.seen.indptr)) as Int32Array,
    indices: (await readArray(dir, manifest.seen.indices)) as Int32Array,
    data: (await readArray(dir, manifest.seen.data)) as Float32Array,
  };
  if (seen.indptr.length !== manifest.numUsers + 1) corrupt(dir, `seen-indptr has ${seen.indptr.length} entries, expected ${manifest.numUsers + 1}`);
  const users = IdMap.fromArray(await readJson<string[]>(dir, USER_IDS_FILE));
  const items = IdMap.fromArray(await readJson<string[]>(dir, ITEM_IDS_FILE));
  if (users.size !== manifest.numUsers || items.size !== manifest.numItems) {
    corrupt(dir, `id lists hold ${users.size} users and ${items.size} items, manifest says ${manifest.numUsers} and ${manifest.numItems}`);
  }
  let itemMetadata: ItemMetadata | null = null;
  if (manifest.itemMetadataFields.length > 0) {
    const byId = await readJson<Record<string, Record<string, string | string[]>>>(dir, ITEM_METADATA_FILE);
    itemMetadata = { fields: manifest.itemMetadataFields, byId: new Map(Object.entries(byId)) };
  }
  let recommender;
  try {
    recommender = factory.restore(manifest.hyperParameters, manifest.numUsers, manifest.numItems, { arrays, values: manifest.values });
  } catch (err) {
    if (err instanceof RecError) throw err;
    corrupt(dir, `cannot restore the ${manifest.type} model: ${(err as Error).message}`, err);
  }
  return new TrainedModel({ info: manifest, recommender, users, items, seen, itemMetadata });
}

export async function readManifest(dir: string): Promise<ModelManifest> {
  let text: string;
  try {
    text = await readFile(join(dir, MANIFEST_FILE), 'utf8');
  } catch (err) {
    throw new RecError('RTREC_ERR_MODEL_NOT_FOUND', `no model at ${dir}: ${join(dir, MANIFEST_FILE)} cannot be read (train one with 'rtrec train --out ${dir}')`, { cause: err });
  }
  let manifest: ModelManifest;
  try {
    manifest = JSON.parse(text) as ModelManifest;
  } catch (err) {
    corrupt(dir, `${MANIFEST_FILE} is not valid JSON`, err);
  }
  if (manifest.format !== MODEL_FORMAT) corrupt(dir, `${MANIFEST_FILE} is not an rtrec model manifest (format ${JSON.stringify(manifest.format)})`);
  if (manifest.formatVersion > MODEL_FORMAT_VERSION) {
    corrupt(dir, `model format version ${manifest.formatVersion} is newer than this rtrec understands (${MODEL_FORMAT_VERSION}); upgrade rtrec`);
  }
  return manifest;
}

async function readArray(dir: string, entry: ArrayEntry): Promise<NumericArray> {
  let buf: Buffer;
  try {
    buf = await readFile(join(dir, entry.file));
  } catch (err) {
    corrupt(dir, `missing array file ${entry.file}`, err);
  }
  const width = 4;
  if (buf.byteLength !== entry.length * width) corrupt(dir, `${entry.file} has ${buf.byteLength} bytes, expected ${entry.length * width}`);
  if (createHash('sha256').update(buf).digest('hex') !== entry.sha256) corrupt(dir, `${entry.file} does not match its checksum in ${MANIFEST_FILE}`);
  // Copy into a fresh, aligned buffer: Buffer pools may start at an unaligned offset.
  const copy = new ArrayBuffer(buf.byteLength);
  new Uint8Array(copy).set(buf);
  return entry.dtype === 'f32' ? new Float32Array(copy) : new Int32Array(copy);
}

async function readJson<T>(dir: string, file: string): Promise<T> {
  try {
    return JSON.parse(await readFile(join(dir, file), 'utf8')) as T;
  } catch (err) {
    corrupt(dir, `${file} is missing or not valid JSON`, err);
  }
}

function corrupt(dir: string, why: string, cause?: unknown): never {
  throw new RecError('RTREC_ERR_MODEL_CORRUPT', `model at ${dir} is unusable: ${why}`, { cause });
}
