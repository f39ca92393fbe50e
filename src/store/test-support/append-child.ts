/**
 * @module Child process for the LMDB tests that need a process of their own (two writers at once, an
 * address-space limit): appends events to the store at argv[2] for argv[4] ms, from four concurrent
 * loops of 50-event appends each followed by a read of one user's events (as a busy server does: it
 * reads a user's history to fold the user in), with the append thread when argv[5] is `thread`, for
 * users `user-0` … `user-<argv[6] - 1>`. Event ids start with argv[3]. Prints `appended <n>` and
 * exits 0, or prints the error and exits 1. Run through ts-child.ts.
 */
import { openStore } from '../open-store.js';

const [url, prefix, ms, mode, users, size] = process.argv.slice(2);
const USERS = Number(users);
const SIZE = Number(size ?? 50);
const store = await openStore(url, { appendThread: mode === 'thread' });
const end = Date.now() + Number(ms);
let next = 0;
let appended = 0;
const loop = async (): Promise<void> => {
  while (Date.now() < end) {
    const events = Array.from({ length: SIZE }, () => {
      const n = next++;
      return { eventId: `${prefix}-${n}`, userId: `user-${n % USERS}`, itemId: `item-${n % 5_000}`, type: 'view', ts: 1_000 + n };
    });
    await store.appendEvents(events);
    appended += events.length;
    await store.userEvents(events[0].userId);
  }
};
try {
  await Promise.all([loop(), loop(), loop(), loop()]);
  await store.close();
  process.stdout.write(`appended ${appended}\n`);
} catch (err) {
  process.stdout.write(`failed ${(err as Error).message}\n`);
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
}
