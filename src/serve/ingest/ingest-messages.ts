/**
 * @module The messages between the app and its event-ingest thread (ingest-thread.ts, ingest-worker.ts).
 * Everything in them is plain data, cloned on the way.
 */
import type { IngestOutcome } from '../../events/online-updater.js';
import type { NewEvent } from '../../store/event-log.js';
import type { ServeConfig } from '../config.js';

/** What the thread starts from. */
export interface IngestWorkerData {
  readonly storeUrl: string;
  readonly config: Readonly<ServeConfig>;
}

export type ToIngestThread =
  /** `served`: the version the app serves reads from (null: none yet). */
  | { readonly type: 'ingest'; readonly id: number; readonly events: readonly NewEvent[]; readonly served: number | null }
  | { readonly type: 'close' };

export type FromIngestThread =
  | { readonly type: 'ready' }
  | { readonly type: 'start-failed'; readonly message: string }
  | { readonly type: 'log'; readonly level: 'info' | 'warn' | 'error'; readonly obj: object; readonly msg: string }
  | { readonly type: 'outcome'; readonly id: number; readonly outcome: IngestOutcome }
  /** `code`: the RecError code of the failure, if it was one. */
  | { readonly type: 'failed'; readonly id: number; readonly code: string | undefined; readonly message: string }
  | { readonly type: 'closed' };
