/**
 * @module The record `rtrec events export` leaves beside its CSV (`<csv>.rtrec-events.json`) saying
 * which part of the event log the file holds, and the rule by which `rtrec train` turns the records
 * of its `--data` files into the model's events watermark (see EventsWatermark and
 * learned-events.ts).
 *
 * Training rule: `--data` files without a record add nothing (their rows are not known to come from
 * the log). Exactly one file whose record says it read events gives the watermark. Several such files
 * give none: the union of differently filtered exports is not one position in the log, and a model
 * trained on overlapping exports has counted their common events twice already; without a watermark
 * the events are folded in again (as before watermarks), and train says so. A record whose CSV no
 * longer matches it (edited, or replaced without the record) also gives no watermark. The record
 * names the store read by its identity (OnlineStore.storeId), so publish records the watermark
 * only in that store (see watermarkFor in jobs/publish.ts).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { writeFileAtomic } from '../core/atomic-fs.js';
import type { EventsWatermark } from '../models/manifest.js';
import { parseSeq } from '../store/event-log.js';

export const SIDECAR_SUFFIX = '.rtrec-events.json';
export const SIDECAR_FORMAT = 'rtrec-events-export';

/** The record, as written (JSON). */
export interface ExportSidecar {
  readonly format: typeof SIDECAR_FORMAT;
  readonly formatVersion: 1;
  /** Log position of the last event read (see ExportReport.through); null when the export read none. */
  readonly logThrough: string | null;
  /** The export's `--since`, ms since the epoch. */
  readonly since?: number;
  /** The export's `--types`. */
  readonly types?: readonly string[];
  /** ISO-8601 time of the export. */
  readonly exportedAt: string;
  /** The store read (its description). */
  readonly store: string;
  /** The identity of the store read (OnlineStore.storeId); absent in records written before identities. */
  readonly storeId?: string;
  readonly events: number;
  readonly rows: number;
  /** sha256 (hex) of the CSV as written, so a changed CSV is not taken for the export. */
  readonly sha256: string;
}

export function sidecarPath(csvPath: string): string {
  return `${csvPath}${SIDECAR_SUFFIX}`;
}

/** Removes the record of an earlier export to `csvPath` (call before overwriting the CSV). */
export async function removeExportSidecar(csvPath: string): Promise<void> {
  await rm(sidecarPath(csvPath), { force: true });
}

/** Writes the record of the export just written to `csvPath`; returns it. */
export async function writeExportSidecar(
  csvPath: string,
  info: {
    readonly through: string | null;
    readonly since?: number;
    readonly types?: ReadonlySet<string>;
    readonly store: string;
    readonly storeId?: string;
    readonly events: number;
    readonly rows: number;
  },
): Promise<ExportSidecar> {
  const sidecar: ExportSidecar = {
    format: SIDECAR_FORMAT,
    formatVersion: 1,
    logThrough: info.through,
    ...(info.since === undefined ? {} : { since: info.since }),
    ...(info.types ? { types: [...info.types].sort() } : {}),
    exportedAt: new Date().toISOString(),
    store: info.store,
    ...(info.storeId === undefined ? {} : { storeId: info.storeId }),
    events: info.events,
    rows: info.rows,
    sha256: await sha256File(csvPath),
  };
  await writeFileAtomic(sidecarPath(csvPath), `${JSON.stringify(sidecar, null, 2)}\n`);
  return sidecar;
}

/** What the record beside one data file says. */
export type SidecarReading =
  | { readonly kind: 'none' }
  | { readonly kind: 'empty' }
  | { readonly kind: 'watermark'; readonly watermark: EventsWatermark }
  | { readonly kind: 'invalid'; readonly reason: string };

/** Reads and checks the record beside `dataPath` (a data file or folder). */
export async function readExportSidecar(dataPath: string): Promise<SidecarReading> {
  let text: string;
  try {
    text = await readFile(sidecarPath(dataPath), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'none' };
    return { kind: 'invalid', reason: `${sidecarPath(dataPath)} cannot be read: ${(err as Error).message}` };
  }
  let doc: ExportSidecar;
  try {
    doc = JSON.parse(text) as ExportSidecar;
  } catch {
    return { kind: 'invalid', reason: `${sidecarPath(dataPath)} is not valid JSON` };
  }
  if (doc.format !== SIDECAR_FORMAT || doc.formatVersion !== 1) return { kind: 'invalid', reason: `${sidecarPath(dataPath)} is not an rtrec events export record` };
  let sha: string;
  try {
    sha = await sha256File(dataPath);
  } catch (err) {
    return { kind: 'invalid', reason: `${dataPath} cannot be read: ${(err as Error).message}` };
  }
  if (sha !== doc.sha256) return { kind: 'invalid', reason: `${dataPath} changed since the export recorded in ${sidecarPath(dataPath)}` };
  if (doc.logThrough === null) return { kind: 'empty' };
  if (typeof doc.logThrough !== 'string' || !parseSeq(doc.logThrough)) return { kind: 'invalid', reason: `${sidecarPath(dataPath)}: logThrough ${JSON.stringify(doc.logThrough)} is not a log position` };
  if (doc.storeId !== undefined && (typeof doc.storeId !== 'string' || doc.storeId === '')) return { kind: 'invalid', reason: `${sidecarPath(dataPath)}: storeId ${JSON.stringify(doc.storeId)} is not a store identity` };
  const watermark: EventsWatermark = {
    through: doc.logThrough,
    ...(doc.since === undefined ? {} : { since: doc.since }),
    ...(doc.types === undefined ? {} : { types: doc.types }),
    store: doc.store,
    ...(doc.storeId === undefined ? {} : { storeId: doc.storeId }),
    exportedAt: doc.exportedAt,
  };
  return { kind: 'watermark', watermark };
}

/**
 * The events watermark for a model trained on `dataPaths` (by the training rule in the module doc),
 * and notes for the user on what was found (why there is none, when a record was there).
 */
export async function trainingWatermark(dataPaths: readonly string[]): Promise<{ readonly watermark?: EventsWatermark; readonly notes: readonly string[] }> {
  const found: { path: string; watermark: EventsWatermark }[] = [];
  const notes: string[] = [];
  let invalid = false;
  for (const path of dataPaths) {
    const r = await readExportSidecar(path);
    if (r.kind === 'watermark') found.push({ path, watermark: r.watermark });
    if (r.kind === 'invalid') {
      invalid = true;
      notes.push(`${r.reason}: no events watermark; the served model will fold the logged events in again`);
    }
  }
  if (invalid) return { notes };
  if (found.length > 1) {
    notes.push(`${found.map((f) => f.path).join(', ')} are all event-log exports: no events watermark (it needs exactly one export); the served model will fold their events in again`);
    return { notes };
  }
  if (found.length === 0) return { notes };
  const { path, watermark } = found[0];
  notes.push(`events watermark: ${path} holds the log of ${watermark.store} through position ${watermark.through}; the served model will not fold those events in again`);
  return { watermark, notes };
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
