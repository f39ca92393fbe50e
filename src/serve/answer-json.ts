/**
 * @module JSON text of the hot answers, written directly from per-version fragments (each item's
 * `{"itemId":…` head and metadata tail are serialised once per snapshot). This skips building an
 * object per item and re-serialising it on every request; the shapes are exactly those of the
 * response schemas in schemas.ts, which still document them and validate nothing at run time.
 */
import type { VersionSnapshot } from './active-version.js';
import type { Selection } from './rec-service.js';

/**
 * Appends `[{"itemId":…,"score":…,"rank":1,…metadata}, …]` to `out`. Answers are assembled as an
 * array of parts joined once: `+=` builds a rope that must be flattened again when written to the
 * socket, which cost more than building the parts.
 */
function pushItems(snap: VersionSnapshot, sel: Selection, out: string[]): void {
  out.push('[');
  for (let j = 0; j < sel.idx.length; j++) {
    const i = sel.idx[j];
    out.push(j > 0 ? ',' : '', snap.itemHead(i), ',"score":', numberJson(sel.scores[j]), ',"rank":', String(j + 1), snap.itemTail(i));
  }
  out.push(']');
}

/** A JSON number; non-finite values (never produced by topK) become null rather than invalid JSON. */
function numberJson(x: number): string {
  return Number.isFinite(x) ? String(x) : 'null';
}

export function userRecsJson(snap: VersionSnapshot, userId: string, source: string, sel: Selection): string {
  const out = ['{"userId":', JSON.stringify(userId), ',"modelVersion":', String(snap.version), ',"source":"', source, '","items":'];
  pushItems(snap, sel, out);
  out.push('}');
  return out.join('');
}

export function batchJson(snap: VersionSnapshot, results: readonly { userId: string; source: string; selection: Selection }[]): string {
  const out = ['{"modelVersion":', String(snap.version), ',"results":['];
  results.forEach((r, j) => {
    out.push(j > 0 ? ',' : '', '{"userId":', JSON.stringify(r.userId), ',"source":"', r.source, '","items":');
    pushItems(snap, r.selection, out);
    out.push('}');
  });
  out.push(']}');
  return out.join('');
}

export function similarJson(snap: VersionSnapshot, itemId: string, source: string, sel: Selection): string {
  const out = ['{"itemId":', JSON.stringify(itemId), ',"modelVersion":', String(snap.version), ',"source":"', source, '","items":'];
  pushItems(snap, sel, out);
  out.push('}');
  return out.join('');
}

export function popularJson(snap: VersionSnapshot, sel: Selection): string {
  const out = ['{"modelVersion":', String(snap.version), ',"items":'];
  pushItems(snap, sel, out);
  out.push('}');
  return out.join('');
}
