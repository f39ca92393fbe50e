import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from './open-store.js';
import { spawnNode, transpileForChild, waitForLine } from '../serve/test-support/ts-child.js';

// `rtrec serve --workers N`, or a server beside `rtrec publish`, writes one LMDB store from several
// processes. With lmdb 3.x (3.2.6, 3.4.4, 3.5.6) two processes appending like this corrupted the
// free-page list within seconds (commits then failed with MDB_BAD_TXN or MDB_BAD_VALSIZE, and the
// process died); this test failed 3 times in 4 with lmdb 3.5.6. lmdb 2.9.4 does not. With lmdb-js's
// default growing map, the process with the append thread also died now and then with SIGSEGV while
// closing the store (see lmdb-env-options.ts).
describe('LMDB store written by two processes at once', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it('keeps every event of both processes, one with the append thread and one appending inline', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rtrec-lmdb-multi-'));
    dirs.push(dir);
    const url = `lmdb://${dir}`;
    // The store and its databases exist before the writers start, as after a publish.
    const created = await openStore(url);
    await created.close();

    const users = 2_000;
    const js = await transpileForChild(join(import.meta.dirname, 'test-support/append-child.ts'));
    const writers = [spawnNode(js, [url, 'a', '15000', 'thread', String(users)]), spawnNode(js, [url, 'b', '15000', 'inline', String(users)])];
    const lines = await Promise.all(writers.map((w) => waitForLine(w, /^(appended|failed) /, 60_000)));
    expect(lines.filter((l) => l.startsWith('failed'))).toEqual([]);
    const appended = lines.map((l) => Number(l.split(' ')[1]));
    expect(Math.min(...appended)).toBeGreaterThan(0);

    const store = await openStore(url);
    try {
      const byWriter = { a: new Set<string>(), b: new Set<string>() };
      for (let u = 0; u < users; u++) {
        for (const e of await store.userEvents(`user-${u}`)) byWriter[e.eventId[0] as 'a' | 'b'].add(e.eventId);
      }
      expect([byWriter.a.size, byWriter.b.size]).toEqual(appended);
    } finally {
      await store.close();
    }
  }, 90_000);
});
