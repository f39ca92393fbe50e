/**
 * @module Child process for the LMDB test of processes opening a store while another writes it:
 * opens the store at argv[2] and closes it again, as a CLI command or a starting server does, over
 * and over for argv[3] ms. Prints `opened <n>` and exits 0, or prints the error and exits 1. Run
 * through ts-child.ts.
 */
import { openStore } from '../open-store.js';

const [url, ms] = process.argv.slice(2);
const end = Date.now() + Number(ms);
let opened = 0;
try {
  while (Date.now() < end) {
    const store = await openStore(url);
    await store.close();
    opened++;
  }
  process.stdout.write(`opened ${opened}\n`);
} catch (err) {
  process.stdout.write(`failed ${(err as Error).message}\n`);
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
}
