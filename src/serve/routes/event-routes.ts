/**
 * @module `POST /v1/events` (API key required): one behaviour event, or `{ events: [...] }` with up to
 * 1,000. Each event is validated on its own; valid ones are appended to the store's event log
 * (durable before the answer), then the lists of their users are recomputed and overwritten in the
 * served version, so the next read from any instance sharing the store reflects them. The answer is
 * 202 with a result per event (accepted, duplicate of an earlier eventId, or rejected with a reason);
 * a request with no valid event at all is a 400.
 */
import { Type } from 'typebox';
import { RecError } from '../../core/errors.js';
import { checkEvent, MAX_EVENTS_PER_REQUEST, reusedIdConflict } from '../../events/event-validate.js';
import type { IngestOutcome } from '../../events/online-updater.js';
import type { NewEvent } from '../../store/event-log.js';
import type { RouteDeps, RtrecApp } from '../app-types.js';
import type { EventIngest } from '../ingest/event-ingest.js';
import { ERROR_RESPONSES, EmptyQuerySchema, ErrorSchema } from '../schemas.js';

/** Rejections quoted in a 400's message. */
const MAX_REASONS_SHOWN = 10;

const EventSchema = Type.Object(
  {
    userId: Type.String({ description: 'User id (1-256 bytes, not blank, no control characters); unknown users are welcome.' }),
    itemId: Type.String({ description: 'Item id (as user ids); events on items the served version lacks are logged for the next training.' }),
    type: Type.String({ description: 'A configured event type: rating, view, click, add_to_cart, purchase, dislike by default.' }),
    value: Type.Optional(Type.Number({ description: 'The rating (0.5-5), for rating events only.' })),
    timestamp: Type.Optional(Type.Union([Type.String(), Type.Number()], { description: 'When it happened: ISO-8601 (UTC when no zone is given), or ms since the epoch (a number below 1e11, e.g. seconds, is refused); default: now.' })),
    eventId: Type.Optional(Type.String({ description: 'Unique id; a retry with the same id is answered as a duplicate and applied once.' })),
  },
  { additionalProperties: true },
);

const EventsBodySchema = Type.Union([EventSchema, Type.Object({ events: Type.Array(Type.Unknown(), { description: `1-${MAX_EVENTS_PER_REQUEST} events.` }) })], {
  description: 'One event, or { events: [...] }. Fields are checked per event, so the body schema is loose.',
});

const EventResultSchema = Type.Object({
  index: Type.Integer({ minimum: 0 }),
  status: Type.Union([Type.Literal('accepted'), Type.Literal('duplicate'), Type.Literal('rejected')]),
  eventId: Type.Optional(Type.String()),
  reason: Type.Optional(Type.String({ description: 'Why the event was rejected, or, for a duplicate whose eventId was first used for a different event, what differs.' })),
});

export const EventsAcceptedSchema = Type.Object({
  accepted: Type.Integer({ description: 'Events newly logged.' }),
  duplicates: Type.Integer({ description: 'Events whose eventId was already logged (not applied again).' }),
  rejected: Type.Integer(),
  applied: Type.Boolean({ description: 'True when the lists of the users concerned were recomputed in modelVersion before this answer.' }),
  modelVersion: Type.Union([Type.Integer(), Type.Null()]),
  notApplied: Type.Optional(Type.String({ description: 'Why the lists were not recomputed (the events are logged all the same): error codes and version numbers only; the server log has the full detail.' })),
  results: Type.Array(EventResultSchema),
});

export interface EventRouteDeps extends RouteDeps {
  readonly ingest: EventIngest;
  /** Events this process may hold between receiving a post and answering it; 0: no bound. */
  readonly maxEventsInFlight: number;
}

/** What an overloaded server asks clients to wait before retrying, in seconds. */
const OVERLOADED_RETRY_AFTER_S = 1;

export function registerEventRoutes(app: RtrecApp, deps: EventRouteDeps): void {
  const { ingest, maxEventsInFlight } = deps;
  // Valid events handed to the ingest and not yet answered. Beyond the bound a post is refused whole
  // (nothing logged): when ingest falls behind, posts would otherwise queue without limit, holding
  // their events in memory and, with them, the garbage collector's work on the event loop that
  // answers reads. A post always fits when none is in flight, whatever the bound.
  let eventsInFlight = 0;
  // A single event as sent, before body validation: the app's ajv coerces types, which would turn a
  // numeric timestamp into a string (the union's first branch) or userId 42 into "42". checkEvent
  // judges the event as sent, as it does every event of a batch (typed Unknown there).
  const asSent = new WeakMap<object, Record<string, unknown>>();
  const security: { [label: string]: string[] }[] = [{ apiKey: [] }, { bearer: [] }];

  app.post('/v1/events', {
    config: { access: 'write' },
    preValidation: (req, _reply, done) => {
      const body = req.body;
      if (typeof body === 'object' && body !== null && !Array.isArray(body) && !Object.hasOwn(body, 'events')) asSent.set(req, { ...(body as Record<string, unknown>) });
      done();
    },
    schema: {
      summary: 'Record behaviour events and update the users\u2019 recommendations',
      tags: ['events'],
      security,
      querystring: EmptyQuerySchema,
      body: EventsBodySchema,
      response: { 202: EventsAcceptedSchema, ...ERROR_RESPONSES, 413: ErrorSchema, 415: ErrorSchema },
    },
  }, async (req, reply) => {
    const raw = rawEvents(asSent.get(req) ?? req.body);
    const now = Date.now();
    type Result = { index: number; status: 'accepted' | 'duplicate' | 'rejected'; eventId?: string; reason?: string };
    const results: Result[] = new Array<Result>(raw.length);
    const valid: NewEvent[] = [];
    const validIndex: number[] = [];
    raw.forEach((r, index) => {
      const check = checkEvent(r, ingest.config, now);
      if (check.ok) {
        valid.push(check.event);
        validIndex.push(index);
      } else {
        results[index] = { index, status: 'rejected', reason: check.reason };
      }
    });
    if (valid.length === 0) {
      const reasons = results.slice(0, MAX_REASONS_SHOWN).map((r) => `events/${r.index}: ${r.reason ?? ''}`);
      throw new RecError('RTREC_ERR_EVENT_INVALID', `no valid event: ${reasons.join('; ')}${results.length > MAX_REASONS_SHOWN ? '; …' : ''}`);
    }
    if (maxEventsInFlight > 0 && eventsInFlight > 0 && eventsInFlight + valid.length > maxEventsInFlight) {
      // Answered here, not thrown: the error handler logs every 5xx with its stack at error level,
      // which is the wrong weight for shedding load, and hides its message, which names nothing secret.
      req.log.warn({ eventsInFlight, events: valid.length, maxEventsInFlight }, 'events refused: too many in flight');
      void reply.code(503).header('retry-after', OVERLOADED_RETRY_AFTER_S);
      return {
        code: 'RTREC_ERR_EVENT_OVERLOADED',
        message: `${eventsInFlight} events are in flight on this server and ${valid.length} more would exceed its bound of ${maxEventsInFlight} (RTREC_MAX_EVENTS_IN_FLIGHT); nothing was logged: retry in ${OVERLOADED_RETRY_AFTER_S} s`,
      };
    }
    eventsInFlight += valid.length;
    let outcome: IngestOutcome;
    try {
      outcome = await ingest.ingest(valid);
    } finally {
      eventsInFlight -= valid.length;
    }
    let conflicts = 0;
    outcome.results.forEach((res, j) => {
      const index = validIndex[j];
      // A reused eventId is answered duplicate either way (the first event stays); unless it is a
      // true retry, the client is told what differs, since its event was not applied.
      const conflict = res.duplicate ? reusedIdConflict(res.event, valid[j], hasTimestamp(raw[index])) : undefined;
      if (conflict) conflicts++;
      results[index] = { index, status: res.duplicate ? 'duplicate' : 'accepted', eventId: res.event.eventId, ...(conflict ? { reason: conflict } : {}) };
    });
    if (conflicts > 0) req.log.warn({ conflicts }, 'eventIds reused for different events: those events were not applied');
    // The log gets the full detail; the client only the reason, which names no host or path.
    if (outcome.notApplied) req.log.warn({ reason: outcome.notApplied.detail }, 'events logged without updating recommendations');
    const duplicates = outcome.results.filter((r) => r.duplicate).length;
    void reply.code(202);
    return {
      accepted: valid.length - duplicates,
      duplicates,
      rejected: raw.length - valid.length,
      applied: outcome.notApplied === undefined,
      modelVersion: outcome.version,
      ...(outcome.notApplied === undefined ? {} : { notApplied: outcome.notApplied.reason }),
      results,
    };
  });
}

function hasTimestamp(raw: unknown): boolean {
  return typeof raw === 'object' && raw !== null && (raw as Record<string, unknown>).timestamp !== undefined;
}

/** The events of a body: `{ events: [...] }` (1..MAX) or a single event object. */
function rawEvents(body: Record<string, unknown>): unknown[] {
  if (!Object.hasOwn(body, 'events')) return [body];
  const keys = Object.keys(body);
  if (keys.length !== 1) throw new RecError('RTREC_ERR_EVENT_INVALID', `a batch body holds only "events", not ${keys.filter((k) => k !== 'events').map((k) => JSON.stringify(k)).join(', ')}`);
  const events = body.events;
  if (!Array.isArray(events) || events.length === 0 || events.length > MAX_EVENTS_PER_REQUEST) {
    throw new RecError('RTREC_ERR_EVENT_INVALID', `events must be an array of 1-${MAX_EVENTS_PER_REQUEST} events`);
  }
  return events;
}
