/**
 * @module Whether to skip the tests that need LMDB built by scripts/build-lmdb.mjs (npm ci does it,
 * unless RTREC_SKIP_LMDB_BUILD=1): without that build they are skipped with a loud message, except
 * with CI set, where they run and fail.
 */
import { lmdbBinaryStatus } from '../lmdb-binary.js';

/** True (after a loud message) when those tests should be skipped here. */
export async function skipWithoutFixedLmdb(): Promise<boolean> {
  await import('lmdb');
  const status = lmdbBinaryStatus();
  if (status.fixed || process.env.CI) return false;
  process.stderr.write(`\n!!! SKIPPING tests that need LMDB built with rtrec's multi-process fix: ${status.problem} (npm run build:lmdb). These tests run in CI. !!!\n\n`);
  return true;
}
