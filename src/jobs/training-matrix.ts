/**
 * @module Turns an interaction log into the user×item matrix a model trains on, with the rules for
 * repeated (user, item) pairs: explicit feedback keeps the latest rating (a re-rating replaces the
 * old one), implicit feedback without ratings counts events, implicit with values keeps the latest.
 */
import { createHash } from 'node:crypto';
import { csrFromCoo, type CsrMatrix } from '../core/csr.js';
import { RecError } from '../core/errors.js';
import type { Interactions } from '../data/interactions.js';

export function buildTrainingMatrix(interactions: Interactions, explicit: boolean, modelName: string): CsrMatrix {
  if (interactions.length === 0) throw new RecError('RTREC_ERR_DATA_EMPTY', 'cannot train on an empty data set');
  if (explicit && !interactions.rating) {
    throw new RecError(
      'RTREC_ERR_MODEL_UNSUPPORTED',
      `model '${modelName}' learns from explicit ratings, but the data has no rating column; use --model ials (implicit feedback) or map a rating column with --rating-col`,
    );
  }
  const { user, item, rating } = chronological(interactions);
  const policy = rating ? 'last' : 'sum';
  return csrFromCoo(interactions.users.size, interactions.items.size, user, item, rating, policy);
}

/** Rows in timestamp order (stable), so that 'last' means the most recent. Skips work when already ordered. */
function chronological(x: Interactions): { user: Int32Array; item: Int32Array; rating: Float32Array | null } {
  const ts = x.timestamp;
  let ordered = true;
  if (ts) for (let i = 1; i < x.length && ordered; i++) ordered = ts[i] >= ts[i - 1];
  if (!ts || ordered) return { user: x.user, item: x.item, rating: x.rating };
  const order = Int32Array.from({ length: x.length }, (_, i) => i).sort((a, b) => ts[a] - ts[b] || a - b);
  const user = new Int32Array(x.length), item = new Int32Array(x.length);
  const rating = x.rating ? new Float32Array(x.length) : null;
  for (let j = 0; j < order.length; j++) {
    const i = order[j];
    user[j] = x.user[i];
    item[j] = x.item[i];
    if (rating) rating[j] = x.rating![i];
  }
  return { user, item, rating };
}

/** sha256 over the matrix and both id lists: equal fingerprints mean a model saw the same data. */
export function fingerprintTrainingData(matrix: CsrMatrix, userIds: readonly string[], itemIds: readonly string[]): string {
  const hash = createHash('sha256');
  for (const arr of [matrix.indptr, matrix.indices, matrix.data]) hash.update(new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength));
  hash.update(JSON.stringify(userIds));
  hash.update(JSON.stringify(itemIds));
  return hash.digest('hex');
}
