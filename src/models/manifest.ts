/**
 * @module The model manifest: the small JSON file that describes a model folder (type,
 * hyper-parameters, sizes, data fingerprint, metrics, and the binary arrays beside it).
 */
import type { HyperParameters, ModelType } from './recommender.js';

export const MODEL_FORMAT = 'rtrec-model';
export const MODEL_FORMAT_VERSION = 1;
export const MANIFEST_FILE = 'manifest.json';

export type ArrayDType = 'f32' | 'i32';

export interface ArrayEntry {
  readonly file: string;
  readonly dtype: ArrayDType;
  /** Number of elements. */
  readonly length: number;
  /** sha256 of the file's bytes, checked on load. */
  readonly sha256: string;
}

/**
 * Which part of an online store's event log a model was trained on (recorded by `rtrec train` from
 * the sidecar `rtrec events export` writes; see src/events/events-watermark.ts). An event is learned
 * when it is at or before `through` in the log, its time is at or after `since` (when set) and its type
 * is one of `types` or a dislike (when `types` is set): exactly the events the export read.
 */
export interface EventsWatermark {
  /** Log position (`StoredEvent.seq`) of the last event the export read. */
  readonly through: string;
  /** The export's `--since`, ms since the epoch. */
  readonly since?: number;
  /** The export's `--types`: other positive types were not exported. */
  readonly types?: readonly string[];
  /** The store the export read (its description), for people: positions of other stores mean nothing. */
  readonly store: string;
  /**
   * The identity of the store the export read (OnlineStore.storeId): publish records the watermark
   * only in that store. Absent in watermarks of exports made before identities (not checked).
   */
  readonly storeId?: string;
  /** ISO-8601 time of the export. */
  readonly exportedAt: string;
}

/** The version meta key (see PublishMeta) where publish records a model's EventsWatermark, as JSON. */
export const EVENTS_WATERMARK_META = 'eventsWatermark';

/** What a model is, independent of how its folder stores it. */
export interface ModelInfo {
  readonly format: typeof MODEL_FORMAT;
  readonly formatVersion: number;
  readonly type: ModelType;
  readonly hyperParameters: HyperParameters;
  readonly createdAt: string;
  readonly rtrecVersion: string;
  readonly numUsers: number;
  readonly numItems: number;
  /** Distinct (user, item) pairs trained on. */
  readonly numInteractions: number;
  readonly training: {
    readonly source: string;
    /** sha256 over the training matrix and id lists: two models with the same value saw the same data. */
    readonly dataFingerprint: string;
    /** True when the matrix values are ratings (explicit feedback), false for implicit strengths. */
    readonly explicitFeedback: boolean;
    readonly seconds: number;
    readonly iterations: number;
    readonly finalLoss?: number;
    /** Which engine produced the model (embedded trainer or Spark). */
    readonly engine: string;
    /** Present when the training data included an event-log export: the log part it learned from. */
    readonly eventsWatermark?: EventsWatermark;
  };
  /** Evaluation results attached by `rtrec train --test` / `rtrec report --save`. */
  readonly metrics?: Readonly<Record<string, number>>;
}

/** The on-disk manifest: ModelInfo plus the files beside it. */
export interface ModelManifest extends ModelInfo {
  /** Fitted scalar values of the model (restore input). */
  readonly values: Readonly<Record<string, number>>;
  /** Model state arrays (restore input), by name. */
  readonly arrays: Readonly<Record<string, ArrayEntry>>;
  /** Training matrix arrays (seen items), by name: indptr, indices, data. */
  readonly seen: Readonly<Record<'indptr' | 'indices' | 'data', ArrayEntry>>;
  readonly itemMetadataFields: readonly string[];
}
