/**
 * @module The answers a server keeps, for two uses: to still answer while its store is unreachable,
 * and to skip selecting and rendering an answer again when the list read from the store has not
 * changed since the last request for the same id (a returning user: selecting and writing the JSON
 * of a 10-item answer cost about 10 µs of a ~50 µs request, measured in the server). A direct-mapped
 * table of `size` slots, each holding the last list read for one (version, kind, id) and the last
 * selection made from it. Every successful read that found a list is remembered (ids without one,
 * such as unknown users, are not: see RecService), so remembering must cost next to nothing: no
 * key string is built, nothing is allocated once a slot exists, and nothing is reordered (an LRU
 * Map's delete and re-insert per request was the largest cost of the read path). Two ids hashing to
 * the same slot evict each other, which a fallback cache can afford.
 */
import type { StoredList } from '../store/online-store.js';
import { fnv1a32 } from '../store/rec-codec.js';
import type { Selection } from './rec-service.js';

/** Which list: 'u' a user's recommendations, 's' an item's similar items. */
export type AnswerKind = 'u' | 's';

/** What is remembered of one id's list, and the last selection made from exactly that list. */
export interface RememberedList {
  readonly list: StoredList;
  /** The query the selection answers (see RecService), or undefined before any. */
  query: string | undefined;
  selection: Selection | undefined;
}

interface Slot {
  version: number;
  kind: AnswerKind;
  id: string;
  remembered: RememberedList;
}

export class RecentAnswers {
  readonly #slots: (Slot | undefined)[];

  /** @param size slots kept; 0 keeps nothing */
  constructor(size: number) {
    this.#slots = new Array<Slot | undefined>(Math.max(0, size));
  }

  /**
   * Remembers `list` as the latest read for (version, kind, id) and returns what is remembered. When
   * the same list (equal items and scores) is already remembered, that entry is kept, with the
   * selection made from it.
   */
  remember(version: number, kind: AnswerKind, id: string, list: StoredList): RememberedList {
    const n = this.#slots.length;
    if (n === 0) return { list, query: undefined, selection: undefined };
    const at = slotOf(kind, id, n);
    const slot = this.#slots[at];
    const remembered: RememberedList = { list, query: undefined, selection: undefined };
    if (slot === undefined) {
      this.#slots[at] = { version, kind, id, remembered };
      return remembered;
    }
    if (slot.version === version && slot.kind === kind && slot.id === id && sameList(slot.remembered.list, list)) return slot.remembered;
    slot.version = version;
    slot.kind = kind;
    slot.id = id;
    slot.remembered = remembered;
    return remembered;
  }

  /** What is remembered for (version, kind, id), or undefined when nothing is. */
  recall(version: number, kind: AnswerKind, id: string): RememberedList | undefined {
    const n = this.#slots.length;
    if (n === 0) return undefined;
    const slot = this.#slots[slotOf(kind, id, n)];
    return slot !== undefined && slot.version === version && slot.kind === kind && slot.id === id ? slot.remembered : undefined;
  }
}

/** A user and an item with the same id land in different slots. */
function slotOf(kind: AnswerKind, id: string, n: number): number {
  return ((fnv1a32(id) ^ (kind === 's' ? 0x9e3779b9 : 0)) >>> 0) % n;
}

/** Equal items and scores. */
function sameList(a: StoredList, b: StoredList): boolean {
  if (a === b) return true;
  const n = a.items.length;
  if (b.items.length !== n || a.scores.length !== b.scores.length || a.fromPopular !== b.fromPopular) return false;
  for (let j = 0; j < n; j++) if (a.items[j] !== b.items[j]) return false;
  for (let j = 0; j < a.scores.length; j++) if (a.scores[j] !== b.scores[j] && !(Number.isNaN(a.scores[j]) && Number.isNaN(b.scores[j]))) return false;
  return true;
}
