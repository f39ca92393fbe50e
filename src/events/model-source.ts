/**
 * @module Where a server finds the model of the version it serves, to fold users in. The model
 * folder given by `RTREC_MODEL_DIR` (`rtrec serve --model-dir`) is loaded, and used for a version
 * only when it is the model that version was published from: same creation time and data
 * fingerprint (publish records both in the version's meta) and the same item ids in the same order as
 * the version's catalogue (so item indices agree). Every instance serving the store checks this
 * itself, so instances sharing a store fold in with the same model or not at all; the folder is
 * re-read when its manifest changes (checked at most every `recheckMs`), so deploying the next model
 * folder before activating its version is all a rollout needs.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { MANIFEST_FILE } from '../models/manifest.js';
import { loadModel } from '../models/model-io.js';
import type { TrainedModel } from '../models/trained-model.js';
import type { Catalog, VersionRecord } from '../store/online-store.js';
import { failedBecause, type NotApplied } from './not-applied.js';

/** What of a served version the check needs (VersionSnapshot has these). */
export interface ServedVersion {
  readonly version: number;
  readonly record: VersionRecord;
  readonly catalog: Catalog;
}

export type ModelLookup =
  | { readonly model: TrainedModel }
  /**
   * `reason` is said to clients (no paths, see not-applied.ts); `detail`, when given, is the fuller
   * text for the server log. `final`: asking again cannot help (the version's model cannot fold
   * users in, or no folder is configured).
   */
  | { readonly model?: undefined; readonly reason: string; readonly detail?: string; readonly final?: boolean };

export interface ModelSource {
  /** The model of `served`, or why there is none. */
  modelFor(served: ServedVersion): Promise<ModelLookup>;
}

/** Model types that cannot fold a user in (their lists are the same for everyone). */
const NO_FOLD_IN = new Set(['pop']);

/** Why `model` is not the model `served` was published from, or undefined when it is. */
export function mismatch(model: TrainedModel, served: ServedVersion): string | undefined {
  const meta = served.record.meta;
  if (meta.modelCreatedAt !== model.info.createdAt || meta.dataFingerprint !== model.info.training.dataFingerprint) {
    return `the model folder (created ${model.info.createdAt}) is not the model of version ${served.version} (created ${String(meta.modelCreatedAt)})`;
  }
  const ids = served.catalog.ids;
  if (ids.length !== model.numItems) return `version ${served.version} has ${ids.length} items, the model ${model.numItems}`;
  for (let i = 0; i < ids.length; i++) if (model.items.idOf(i) !== ids[i]) return `item ${i} of version ${served.version} is ${ids[i]}, in the model ${model.items.idOf(i)}`;
  return undefined;
}

/** A source holding one in-memory model (tests, benchmarks, embedding). */
export function fixedModelSource(model: TrainedModel): ModelSource {
  return { modelFor: (served) => Promise.resolve(lookup(model, served)) };
}

/** The source reading a model folder, re-read when its manifest file changes. */
export function modelDirSource(dir: string, options: { recheckMs?: number } = {}): ModelSource {
  const recheckMs = options.recheckMs ?? 5_000;
  let loaded: { model: TrainedModel; mtimeMs: number } | undefined;
  let checkedAt = -Infinity;
  let failure: NotApplied = { reason: 'the model folder is not loaded yet', detail: `no model loaded from ${dir} yet` };
  let inFlight: Promise<void> | undefined;
  const check = async (): Promise<void> => {
    checkedAt = Date.now();
    try {
      const { mtimeMs } = await stat(join(dir, MANIFEST_FILE));
      if (loaded?.mtimeMs === mtimeMs) return;
      loaded = { model: await loadModel(dir), mtimeMs };
    } catch (err) {
      loaded = undefined;
      failure = { reason: failedBecause('the model folder cannot be loaded', err).reason, detail: `cannot load the model in ${dir}: ${(err as Error).message}` };
    }
  };
  return {
    async modelFor(served) {
      const stale = !loaded || lookup(loaded.model, served).model === undefined;
      // A load already under way (e.g. started by the rebuild at activation) is always waited for:
      // answering from before it would report "no model loaded yet" for a model about to be there.
      if (inFlight || Date.now() - checkedAt >= (stale ? Math.min(recheckMs, 1_000) : recheckMs)) {
        inFlight ??= check().finally(() => {
          inFlight = undefined;
        });
        await inFlight;
      }
      return loaded ? lookup(loaded.model, served) : { ...failure };
    },
  };
}

/** mismatch() results per model and version: the catalogue comparison is O(items). */
const checked = new WeakMap<TrainedModel, Map<number, string | undefined>>();

function lookup(model: TrainedModel, served: ServedVersion): ModelLookup {
  let byVersion = checked.get(model);
  if (!byVersion) checked.set(model, (byVersion = new Map<number, string | undefined>()));
  if (!byVersion.has(served.version)) byVersion.set(served.version, mismatch(model, served));
  const why = byVersion.get(served.version);
  if (why !== undefined) return { reason: why };
  // The version's own model cannot fold in: no other folder will be deployed for it.
  if (NO_FOLD_IN.has(model.info.type)) return { reason: `a ${model.info.type} model recommends the same to everyone; events are logged only`, final: true };
  return { model };
}
