/**
 * @module The event log as training data: a canonical interactions CSV
 * (`userId,itemId,rating,timestamp`, timestamps in unix seconds) that `rtrec train` reads like any
 * interactions file. One row per (user, item) pair, by the same rules as the online update:
 *
 * - a pair with a `rating` event gets its latest rating;
 * - otherwise the pair's strength is the sum of its event weights since its last dislike;
 * - a pair whose last word is a dislike (or whose strength is not positive: only events of a type
 *   weighing 0) is left out, since training reads every value as a positive rating or strength.
 *
 * The timestamp is the pair's latest event. The file is streamed to a temporary file and renamed
 * into place when complete: a failed export leaves the previous file as it was.
 */
import { writeTextFileAtomic } from '../core/atomic-fs.js';
import { quoteCsvField } from '../data/csv.js';
import type { EventLog } from '../store/event-log.js';
import { RATING_TYPE, isDislike, type EventConfig } from './event-config.js';

export interface ExportOptions {
  /** Only events at or after this time, ms since the epoch. */
  readonly sinceTs?: number;
  /**
   * Only these positive event types become rows (e.g. just `rating` for an explicit-ratings model,
   * whose training would read other weights as ratings); dislikes always remove their pair.
   */
  readonly types?: ReadonlySet<string>;
  /** Write the header row (default true; false to append to another file). */
  readonly header?: boolean;
  /** Called every 10,000 events read with the number read so far. */
  readonly onEvents?: (read: number) => void;
  /** Runs once the new file is complete, just before it replaces `path` (e.g. to remove the old file's record). */
  readonly beforeReplace?: () => Promise<void>;
}

export interface ExportReport {
  readonly events: number;
  readonly rows: number;
  /** Pairs left out because their latest word was a dislike. */
  readonly disliked: number;
  /**
   * Log position (`StoredEvent.seq`) of the last event read, or null when none was: every event the
   * export could see is at or before it (the log is scanned in position order, and positions are
   * assigned in commit order).
   */
  readonly through: string | null;
}

/** What the export makes of one (user, item) pair from its events so far (see addToPair). */
export interface PairState {
  rating: number | undefined;
  strength: number;
  disliked: boolean;
}

interface Pair extends PairState {
  readonly userId: string;
  readonly itemId: string;
  tsMs: number;
}

/** True when the export reads `e` into its pair: its type is kept by `types` (when given) or a dislike. */
export function exportKeeps(e: { readonly type: string }, config: EventConfig, types: ReadonlySet<string> | undefined): boolean {
  return !types || types.has(e.type) || isDislike(config, e.type);
}

/** Folds one event (log order) into its pair's state, by the rules in the module doc. */
export function addToPair(p: PairState, e: { readonly type: string; readonly value?: number }, config: EventConfig): void {
  if (isDislike(config, e.type)) {
    p.disliked = true;
    p.rating = undefined;
    p.strength = 0;
  } else if (e.type === RATING_TYPE) {
    p.disliked = false;
    p.rating = e.value;
  } else {
    p.disliked = false;
    p.strength += config.weights[e.type] ?? 0;
  }
}

/** The pair's training value, or undefined when the pair gets no row (disliked, or not positive). */
export function pairValue(p: PairState): number | undefined {
  const value = p.rating ?? p.strength;
  return p.disliked || !(value > 0) ? undefined : value;
}

/** Reads the log and writes the training rows to `path`. */
export async function exportEventsCsv(log: EventLog, path: string, config: EventConfig, options: ExportOptions = {}): Promise<ExportReport> {
  const pairs = new Map<string, Pair>();
  let events = 0;
  let through: string | null = null;
  for await (const e of log.scanEvents(options.sinceTs === undefined ? {} : { sinceTs: options.sinceTs })) {
    events++;
    through = e.seq;
    if (events % 10_000 === 0) options.onEvents?.(events);
    if (!exportKeeps(e, config, options.types)) continue;
    const key = `${e.userId}\u0000${e.itemId}`;
    let p = pairs.get(key);
    if (!p) pairs.set(key, (p = { userId: e.userId, itemId: e.itemId, rating: undefined, strength: 0, disliked: false, tsMs: e.ts }));
    p.tsMs = Math.max(p.tsMs, e.ts);
    addToPair(p, e, config);
  }
  let rows = 0;
  let disliked = 0;
  // Streamed: one string of all rows fails past V8's string limit (~536M characters, ~13M pairs).
  await writeTextFileAtomic(
    path,
    async (out) => {
      if (options.header !== false) await out.write('userId,itemId,rating,timestamp\n');
      for (const p of pairs.values()) {
        const value = pairValue(p);
        if (value === undefined) {
          // Not a row: disliked, or only events of weight 0 (seen, no strength).
          if (p.disliked) disliked++;
          continue;
        }
        await out.write(`${quoteCsvField(p.userId)},${quoteCsvField(p.itemId)},${value},${Math.floor(p.tsMs / 1000)}\n`);
        rows++;
      }
    },
    options.beforeReplace ? { beforeRename: options.beforeReplace } : {},
  );
  return { events, rows, disliked, through };
}
