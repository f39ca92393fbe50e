/**
 * @module The answers a server keeps so it can still answer while its store is unreachable: a
 * direct-mapped table of `size` slots, each holding the last list read for one (version, kind, id).
 * Every successful read is remembered, so remembering must cost next to nothing: no key string is
 * built, nothing is allocated once a slot exists, and nothing is reordered (an LRU Map's delete and
 * re-insert per request was the largest cost of the read path). Two ids hashing to the same slot
 * evict each other, which a fallback cache can afford.
 */
import type { Ranked } from '../models/recommender.js';
import { fnv1a32 } from '../store/rec-codec.js';

/** Which list: 'u' a user's recommendations, 's' an item's similar items. */
export type AnswerKind = 'u' | 's';

interface Slot {
  version: number;
  kind: AnswerKind;
  id: string;
  /** null: the store had no list for this id (an unknown user or item). */
  list: Ranked | null;
}

export class RecentAnswers {
  readonly #slots: (Slot | undefined)[];

  /** @param size slots kept; 0 keeps nothing */
  constructor(size: number) {
    this.#slots = new Array<Slot | undefined>(Math.max(0, size));
  }

  remember(version: number, kind: AnswerKind, id: string, list: Ranked | null): void {
    const n = this.#slots.length;
    if (n === 0) return;
    const at = slotOf(kind, id, n);
    const slot = this.#slots[at];
    if (slot === undefined) {
      this.#slots[at] = { version, kind, id, list };
      return;
    }
    slot.version = version;
    slot.kind = kind;
    slot.id = id;
    slot.list = list;
  }

  /** The remembered list; null when the store had none; undefined when nothing is remembered. */
  recall(version: number, kind: AnswerKind, id: string): Ranked | null | undefined {
    const n = this.#slots.length;
    if (n === 0) return undefined;
    const slot = this.#slots[slotOf(kind, id, n)];
    return slot !== undefined && slot.version === version && slot.kind === kind && slot.id === id ? slot.list : undefined;
  }
}

/** A user and an item with the same id land in different slots. */
function slotOf(kind: AnswerKind, id: string, n: number): number {
  return ((fnv1a32(id) ^ (kind === 's' ? 0x9e3779b9 : 0)) >>> 0) % n;
}
