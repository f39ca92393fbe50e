/**
 * @module What the online update remembers per user between events, so an event costs reading and
 * folding only what was logged since the user's previous update instead of the user's whole log:
 * the folded interactions, the log cursor they reach and the list computed from them. An entry is only valid for the version and
 * model it was folded for (item indices and training rows differ between them). Least recently used
 * entries are dropped beyond a fixed number of users; a dropped user is simply folded from the log
 * again.
 */
import { Lru } from '../core/lru.js';
import type { TrainedModel } from '../models/trained-model.js';
import type { RankedList } from './list-ranking.js';
import type { UserInteractions } from './user-interactions.js';

export interface FoldEntry {
  readonly version: number;
  readonly model: TrainedModel;
  /** The user's log cursor (see EventLog.userEventsAfter) the interactions include events up to. */
  readonly cursor: string;
  readonly interactions: UserInteractions;
  /** The list computed from `interactions`, if any, to derive the next one from (list-ranking.ts). */
  readonly list?: RankedList;
  /** True once `list` is known to be in the store (so an unchanged list need not be written again). */
  written: boolean;
}

/** Users remembered by default: about 2 KB each (a hundred interactions and a list of 125). */
export const DEFAULT_FOLD_CACHE_USERS = 20_000;

export class FoldCache {
  readonly #entries: Lru<string, FoldEntry>;

  constructor(capacity: number = DEFAULT_FOLD_CACHE_USERS) {
    this.#entries = new Lru(Math.max(0, Math.floor(capacity)));
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The user's entry when it was folded for this version and model. */
  get(userId: string, version: number, model: TrainedModel): FoldEntry | undefined {
    const entry = this.#entries.get(userId);
    if (entry && (entry.version !== version || entry.model !== model)) {
      this.#entries.delete(userId);
      return undefined;
    }
    return entry;
  }

  set(userId: string, entry: FoldEntry): void {
    this.#entries.set(userId, entry);
  }

  delete(userId: string): void {
    this.#entries.delete(userId);
  }
}
