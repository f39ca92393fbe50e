/**
 * @module JSON text of the hot answers, written directly from per-version fragments (each item's
 * `{"itemId":…` head and metadata tail are serialised once per snapshot). This skips building an
 * object per item and re-serialising it on every request; the shapes are exactly those of the
 * response schemas in schemas.ts, which still document them and validate nothing at run time.
 */
import type { VersionSnapshot } from './active-version.js';
import type { Selection } from './rec-service.js';

/** `[{"itemId":…,"score":…,"rank":1,…metadata}, …]` */
export function itemsJson(snap: VersionSnapshot, sel: Selection): string {
  let out = '[';
  for (let j = 0; j < sel.idx.length; j++) {
    const i = sel.idx[j];
    if (j > 0) out += ',';
    out += `${snap.itemHead(i)},"score":${numberJson(sel.scores[j])},"rank":${j + 1}${snap.itemTail(i)}`;
  }
  return `${out}]`;
}

/** A JSON number; non-finite values (never produced by topK) become null rather than invalid JSON. */
function numberJson(x: number): string {
  return Number.isFinite(x) ? String(x) : 'null';
}

export function userRecsJson(snap: VersionSnapshot, userId: string, source: string, sel: Selection): string {
  return `{"userId":${JSON.stringify(userId)},"modelVersion":${snap.version},"source":"${source}","items":${itemsJson(snap, sel)}}`;
}

export function batchJson(snap: VersionSnapshot, results: readonly { userId: string; source: string; selection: Selection }[]): string {
  const parts = results.map((r) => `{"userId":${JSON.stringify(r.userId)},"source":"${r.source}","items":${itemsJson(snap, r.selection)}}`);
  return `{"modelVersion":${snap.version},"results":[${parts.join(',')}]}`;
}

export function similarJson(snap: VersionSnapshot, itemId: string, source: string, sel: Selection): string {
  return `{"itemId":${JSON.stringify(itemId)},"modelVersion":${snap.version},"source":"${source}","items":${itemsJson(snap, sel)}}`;
}

export function popularJson(snap: VersionSnapshot, sel: Selection): string {
  return `{"modelVersion":${snap.version},"items":${itemsJson(snap, sel)}}`;
}
