/**
 * @module Child process for the LMDB test of processes opening a store while another writes it:
 * opens the store at argv[2] and closes it again, as a CLI command or a starting server does, over
 * and over for argv[3] ms. Prints `opened <n> refused <m>` and exits 0, or prints the error and
 * exits 1. Run through ts-child.ts.
 *
 * An open refused with EINVAL ("Invalid argument: No transaction to renew") is counted, not fatal:
 * that is another lmdb-js 2.9.4 bug, seen only in a process that reopens a store while other
 * processes open it too (lmdb-js's EnvWrap::beginTxn ignores the EINVAL of mdb_txn_begin, and the
 * message names a stale error). Such an open writes nothing, so it cannot cost the writer a commit,
 * which is what the test checks; it failed the test once in CI before it was counted.
 */
import { openStore } from '../open-store.js';

const [url, ms] = process.argv.slice(2);
const end = Date.now() + Number(ms);
let opened = 0;
let refused = 0;
try {
  while (Date.now() < end) {
    let store;
    try {
      store = await openStore(url);
    } catch (err) {
      if (!/: Invalid argument\b/.test((err as Error).message)) throw err;
      refused++;
      continue;
    }
    await store.close();
    opened++;
  }
  process.stdout.write(`opened ${opened} refused ${refused}\n`);
} catch (err) {
  process.stdout.write(`failed ${(err as Error).message}\n`);
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
}
