/**
 * @module An Int32Array and a Float32Array of the same length on one ArrayBuffer, ints first: the
 * shape of a ranked list (item indices and scores) and of a user's interactions (item indices and
 * values). Lists and interactions kept per user (the fold cache, the answer cache) outlive young-
 * generation collections; each ArrayBuffer is a heap object of its own plus an external backing
 * store the collector tracks, so one buffer per pair instead of two halves that bookkeeping. It is
 * also the layout decodeRanked gives a list read from a store (rec-codec.ts), which `encodes`
 * compares with stored bytes as one block.
 */

export interface PairedArrays {
  readonly ints: Int32Array;
  readonly floats: Float32Array;
}

/** Zero-filled arrays of length `n` sharing one buffer: ints at byte 0, floats right after them. */
export function pairedArrays(n: number): PairedArrays {
  const buffer = new ArrayBuffer(8 * n);
  return { ints: new Int32Array(buffer, 0, n), floats: new Float32Array(buffer, 4 * n, n) };
}

/** Copies of `ints` and `floats` (the same length) in one buffer, as pairedArrays lays them out. */
export function pairedCopy(ints: ArrayLike<number>, floats: ArrayLike<number>): PairedArrays {
  const n = ints.length;
  if (floats.length !== n) throw new TypeError(`paired arrays need equal lengths, got ${n} and ${floats.length}`);
  const out = pairedArrays(n);
  out.ints.set(ints);
  out.floats.set(floats);
  return out;
}
