/**
 * @module Checks one raw event of a `POST /v1/events` body and turns it into what the log stores.
 * Each event is checked on its own so a batch keeps its valid events; the reason names the field.
 * Ids follow the read routes' rules (1–256 bytes of UTF-8, well-formed Unicode, no control
 * characters; see idTextProblem).
 */
import { randomUUID } from 'node:crypto';
import { idTextProblem } from '../core/ids.js';
import { isBlank, parseTimestamp } from '../data/field-parsers.js';
import type { NewEvent } from '../store/event-log.js';
import { RATING_MAX, RATING_MIN, RATING_TYPE, type EventConfig } from './event-config.js';

export const MAX_EVENT_ID_BYTES = 256;
export const MAX_EVENTS_PER_REQUEST = 1_000;
/** Event times accepted: not before 1970 and at most one day ahead of the server clock. */
const MAX_FUTURE_MS = 86_400_000;
/**
 * The smallest numeric timestamp accepted, ms (1973-03-03). A number is ms since the epoch, as the
 * API documents; the data loader and exported files count seconds, and any date in seconds up to
 * the year 5138 is below this, so a time sent in seconds (1700000000: 1970-01-20 as ms) is refused
 * rather than logged 50 years early, where training (which orders a pair's rows by time) would let
 * older base data outrank it.
 */
export const MIN_NUMERIC_TS_MS = 1e11;

const FIELDS = new Set(['userId', 'itemId', 'type', 'value', 'timestamp', 'eventId']);

export type EventCheck = { readonly ok: true; readonly event: NewEvent } | { readonly ok: false; readonly reason: string };

/**
 * Validates `raw`. `nowMs` is the receive time (ms since the epoch): the event time when none is
 * given. An event without eventId gets a random one (it then cannot be retried idempotently).
 */
export function checkEvent(raw: unknown, config: EventConfig, nowMs: number): EventCheck {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail('an event must be a JSON object');
  const doc = raw as Record<string, unknown>;
  for (const key of Object.keys(doc)) if (!FIELDS.has(key)) return fail(`unknown field ${JSON.stringify(key)}`);
  for (const field of ['userId', 'itemId'] as const) {
    const why = idProblem(doc[field]);
    if (why) return fail(`${field} ${why}`);
  }
  if (doc.eventId !== undefined) {
    const why = idProblem(doc.eventId);
    if (why) return fail(`eventId ${why}`);
  }
  const type = doc.type;
  if (typeof type !== 'string' || !Object.hasOwn(config.weights, type)) {
    return fail(`type must be one of ${Object.keys(config.weights).sort().join(', ')}`);
  }
  let value: number | undefined;
  if (type === RATING_TYPE) {
    if (typeof doc.value !== 'number' || !Number.isFinite(doc.value) || doc.value < RATING_MIN || doc.value > RATING_MAX) {
      return fail(`value must be a number from ${RATING_MIN} to ${RATING_MAX} for rating events`);
    }
    value = doc.value;
  } else if (doc.value !== undefined) {
    return fail(`value is only allowed on rating events (a ${type} event weighs ${config.weights[type]})`);
  }
  let ts = nowMs;
  if (doc.timestamp !== undefined) {
    const parsed = parseTime(doc.timestamp);
    if (typeof doc.timestamp === 'number' && parsed !== undefined && parsed >= 0 && parsed < MIN_NUMERIC_TS_MS) {
      return fail(`timestamp ${doc.timestamp} is too small for ms since the epoch (it looks like seconds): send ms (e.g. ${doc.timestamp * 1000}) or an ISO-8601 time`);
    }
    if (parsed === undefined || parsed < 0 || parsed > nowMs + MAX_FUTURE_MS) return fail('timestamp must be an ISO-8601 time or ms since the epoch, not in the future');
    ts = parsed;
  }
  const eventId = typeof doc.eventId === 'string' ? doc.eventId : randomUUID();
  return { ok: true, event: { eventId, userId: doc.userId as string, itemId: doc.itemId as string, type, ts, ...(value === undefined ? {} : { value }) } };
}

function fail(reason: string): EventCheck {
  return { ok: false, reason };
}

function idProblem(v: unknown): string | undefined {
  if (typeof v !== 'string' || v === '') return 'must be a non-empty string';
  // The data loader refuses blank ids, so an exported blank id would stop the next training.
  if (isBlank(v)) return 'must not be blank';
  if (Buffer.byteLength(v, 'utf8') > MAX_EVENT_ID_BYTES) return `is longer than ${MAX_EVENT_ID_BYTES} bytes`;
  return idTextProblem(v);
}

function parseTime(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? Math.round(v) : undefined;
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}/.test(v)) return undefined;
  // The data loader's reading (UTC without a zone, impossible dates refused), so an exported event
  // means the same time to training; Date.parse would read local time and roll 02-30 to March.
  const seconds = parseTimestamp(v);
  return typeof seconds === 'string' ? undefined : Math.round(seconds * 1000);
}

/**
 * Why `sent` is not a retry of `logged`, the event first logged under the same eventId: the fields
 * that differ, or undefined when none does. The time counts only when the client gave one (`timed`):
 * a retry without a timestamp gets a new receive time.
 */
export function reusedIdConflict(logged: NewEvent, sent: NewEvent, timed: boolean): string | undefined {
  const diffs: string[] = [];
  for (const field of ['userId', 'itemId', 'type'] as const) {
    if (logged[field] !== sent[field]) diffs.push(`${field} ${JSON.stringify(logged[field])}, not ${JSON.stringify(sent[field])}`);
  }
  if (logged.value !== sent.value) diffs.push(`value ${logged.value ?? 'none'}, not ${sent.value ?? 'none'}`);
  if (timed && logged.ts !== sent.ts) diffs.push(`timestamp ${new Date(logged.ts).toISOString()}, not ${new Date(sent.ts).toISOString()}`);
  if (diffs.length === 0) return undefined;
  return `eventId ${logged.eventId} was first used for a different event (${diffs.join('; ')}); that one is kept, this one is not applied`;
}
