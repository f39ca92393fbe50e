/**
 * @module Where POST /v1/events hands the events it found valid: an EventIngest logs them durably and
 * updates their users' lists before it resolves (read-your-writes). Two kinds: on the event loop
 * (the app's own OnlineUpdater) or on a thread of its own (ingest-thread.ts), so that folding users
 * in, planning list writes and the garbage that work leaves never hold up reads. The pieces both
 * assemble the same way live here too.
 */
import type { EventConfig } from '../../events/event-config.js';
import type { ModelSource } from '../../events/model-source.js';
import type { IngestOutcome, OnlineUpdater } from '../../events/online-updater.js';
import type { NewEvent } from '../../store/event-log.js';
import type { VersionSnapshot } from '../active-version.js';

export interface EventIngest {
  readonly config: EventConfig;
  /** Logs `events` and updates their users' lists in the served version; see OnlineUpdater.ingest. */
  ingest(events: readonly NewEvent[]): Promise<IngestOutcome>;
}

/** Used when no model folder is configured: events are logged, lists stay as published. */
export const NO_MODELS: ModelSource = {
  modelFor: () => Promise.resolve({ reason: 'no model folder is configured (RTREC_MODEL_DIR / --model-dir), so events are logged only', final: true }),
};

/** The logger calls the ingest side makes (pino's signature; the thread forwards them to the app's logger). */
export interface IngestLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * On a version switch: applies the events logged before the version was served (e.g. during its
 * publish) to it, retried until done (a user left out keeps a stale list, a disliked item back,
 * until their next event), and logs how that went.
 */
export function catchUpOnSwitch(updater: OnlineUpdater, snapshot: VersionSnapshot, log: IngestLog, signal: AbortSignal): void {
  const modelVersion = snapshot.version;
  updater
    .catchUp(snapshot, {
      signal,
      onRetry: ({ attempt, reason, users, delayMs }) =>
        log.warn({ modelVersion, attempt, usersLeft: users ?? 'all', retryInMs: delayMs, err: reason }, 'recomputing users with events failed; retrying'),
    })
    .then(
      (out) => {
        if (out.state === 'done') log.info({ modelVersion, users: out.users, attempts: out.attempts }, 'recomputed users with events');
        else if (out.state === 'superseded') log.info({ modelVersion, attempts: out.attempts }, 'recomputing users with events stopped: a newer version is served');
        else if (out.state === 'not-applied') log.info({ modelVersion, notApplied: out.reason }, 'users with events not recomputed');
        else log.warn({ modelVersion, attempts: out.attempts, err: out.reason }, 'recomputing users with events given up: the server is closing');
      },
      (err: unknown) => log.error({ modelVersion, err: err instanceof Error ? err.message : String(err) }, 'recomputing users with events failed'),
    );
}
