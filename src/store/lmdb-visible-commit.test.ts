import { statfsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ABORT, open, type RootDatabase } from 'lmdb';
import { afterAll, describe, expect, it } from 'vitest';
import { LMDB_ENV_OPTIONS } from './lmdb-env-options.js';
import { appendInTxn, appendVisible, type ControlKey, type DataKey, type EventDbs, type EventKey, type PackedAppend } from './lmdb-event-txn.js';
import { commitsSurviveKill, watchVisibleCommits, type VisibleCommits } from './lmdb-visible-commit.js';
import type { NewEvent } from './event-log.js';

const dirs: string[] = [];
const roots: RootDatabase[] = [];
async function freshEnv(): Promise<{ root: RootDatabase; dbs: EventDbs }> {
  const dir = await mkdtemp(join(tmpdir(), 'rtrec-visible-'));
  dirs.push(dir);
  const root = open({ path: join(dir, 'store.mdb'), ...LMDB_ENV_OPTIONS });
  roots.push(root);
  const dbs: EventDbs = {
    events: root.openDB<unknown, EventKey>({ name: 'events', encoding: 'json' }),
    data: root.openDB<Uint8Array, DataKey>({ name: 'data', encoding: 'binary' }),
    control: root.openDB<unknown, ControlKey>({ name: 'control', encoding: 'json' }),
  };
  return { root, dbs };
}
afterAll(async () => {
  await Promise.all(roots.map((r) => r.close()));
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const click = (eventId: string, userId = 'u1'): NewEvent => ({ eventId, userId, itemId: 'i1', type: 'click', ts: 1_700_000_000_000 });

describe('appendVisible', () => {
  it('holds once the append is committed, including an append of duplicates only', async () => {
    const { root, dbs } = await freshEnv();
    const events = [click('a'), click('b', 'u2')];
    const packed = dbs.events.transactionSync(() => appendInTxn(dbs, events, {}));
    root.resetReadTxn();
    expect(appendVisible(dbs.events, events, packed)).toBe(true);
    const again = dbs.events.transactionSync(() => appendInTxn(dbs, [events[1], events[0]], {}));
    expect([...again.flags]).toEqual([1, 1]);
    expect(appendVisible(dbs.events, [events[1], events[0]], again)).toBe(true);
  });

  it('fails for an aborted append, even after another event was logged at the seq it had taken', async () => {
    const { root, dbs } = await freshEnv();
    let aborted: PackedAppend | undefined;
    dbs.events.transactionSync(() => {
      aborted = appendInTxn(dbs, [click('lost')], {});
      return ABORT;
    });
    root.resetReadTxn();
    expect(appendVisible(dbs.events, [click('lost')], aborted!)).toBe(false);
    const kept = dbs.events.transactionSync(() => appendInTxn(dbs, [click('kept')], {}));
    expect(kept.seqs[0]).toBe(aborted!.seqs[0]);
    root.resetReadTxn();
    expect(appendVisible(dbs.events, [click('lost')], aborted!)).toBe(false);
    expect(appendVisible(dbs.events, [click('kept')], kept)).toBe(true);
  });
});

describe('appendVisible within a shared write batch', () => {
  it('fails for every append of a batch until the batch commits, a duplicate of an earlier append in it included', async () => {
    const { root, dbs } = await freshEnv();
    // A second handle has its own snapshot, outside this thread's write transaction: any other reader.
    const other = open({ path: (root as unknown as { path: string }).path, ...LMDB_ENV_OPTIONS });
    roots.push(other);
    const otherLog = other.openDB<unknown, EventKey>({ name: 'events', encoding: 'json' });
    const first = [click('a')];
    const second = [click('a'), click('b')];
    const seenDuring: boolean[] = [];
    let packedFirst: PackedAppend | undefined;
    let packedSecond: PackedAppend | undefined;
    await Promise.all([
      dbs.events.transaction(() => {
        packedFirst = appendInTxn(dbs, first, {});
        other.resetReadTxn();
        seenDuring.push(appendVisible(otherLog, first, packedFirst));
      }),
      dbs.events.transaction(() => {
        packedSecond = appendInTxn(dbs, second, {});
        other.resetReadTxn();
        seenDuring.push(appendVisible(otherLog, second, packedSecond));
      }),
    ]);
    expect([...packedSecond!.flags]).toEqual([1, 0]);
    expect(seenDuring).toEqual([false, false]);
    other.resetReadTxn();
    expect(appendVisible(otherLog, first, packedFirst!)).toBe(true);
    expect(appendVisible(otherLog, second, packedSecond!)).toBe(true);
  });
});

describe('commitsSurviveKill', () => {
  const linux = { platform: 'linux', restoreMode: undefined, bootId: '4df08963-2e21-46de-8eeb-33882bfae899\n' };
  it('holds on Linux with a boot id LMDB can tell apart, and not in safe-restore mode', () => {
    expect(commitsSurviveKill(linux)).toBe(true);
    expect(commitsSurviveKill({ ...linux, restoreMode: 'safe' })).toBe(false);
  });
  it('does not hold without a boot id, with one LMDB reads as 0, or off Linux', () => {
    expect(commitsSurviveKill({ ...linux, bootId: undefined })).toBe(false);
    expect(commitsSurviveKill({ ...linux, bootId: '00000000-2e21-46de-8eeb-33882bfae899' })).toBe(false);
    expect(commitsSurviveKill({ ...linux, bootId: '' })).toBe(false);
    expect(commitsSurviveKill({ ...linux, platform: 'darwin' })).toBe(false);
    expect(commitsSurviveKill({ ...linux, platform: 'freebsd' })).toBe(false);
  });
});

/**
 * lmdb-js drops its visibility callback when the flush ends before this thread takes it up, so on a
 * file system whose flush costs nothing (tmpfs) there may be nothing to answer early.
 */
const TMPFS_MAGIC = 0x01021994;
const instantFlush = ((): boolean => {
  try {
    return statfsSync(tmpdir()).type === TMPFS_MAGIC;
  } catch {
    return false;
  }
})();
if (instantFlush) console.warn(`*** SKIPPING the early-answer timing tests: ${tmpdir()} is tmpfs, where LMDB's flush is instant ***`);

/** Commits single appends until lmdb-js has made a visibility callback (at most `tries`). */
async function untilSignalled(watch: VisibleCommits, dbs: EventDbs, tries = 20): Promise<number> {
  const before = watch.signals;
  for (let n = 0; n < tries && watch.signals === before; n++) await dbs.events.transaction(() => appendInTxn(dbs, [click(`signal-${n}-${before}`)], {}));
  return watch.signals - before;
}

describe('watchVisibleCommits', () => {
  it('is not made where an unflushed commit would not survive a kill', async () => {
    const { root } = await freshEnv();
    expect(watchVisibleCommits(root, () => false)).toBeUndefined();
  });

  it.skipIf(instantFlush)('hears lmdb-js tell the event loop that a commit is visible, once per environment', async () => {
    const { root, dbs } = await freshEnv();
    const watch = watchVisibleCommits(root, () => true);
    expect(watch).toBeDefined();
    expect(watchVisibleCommits(root)).toBe(watch);
    expect(await untilSignalled(watch!, dbs)).toBeGreaterThan(0);
  });

  it.skipIf(instantFlush)('answers a transaction when a fresh read shows it, before lmdb-js resolves it after the flush', async () => {
    const { root, dbs } = await freshEnv();
    const watch = watchVisibleCommits(root, () => true)!;
    const answers: string[] = [];
    for (let n = 0; n < 10; n++) {
      const events = [click(`e${n}`)];
      let staged: PackedAppend | undefined;
      const committed = dbs.events.transaction(() => (staged = appendInTxn(dbs, events, {}))).then(() => 'flushed');
      answers.push(await watch.whenVisible(committed, () => (staged && appendVisible(dbs.events, events, staged) ? 'visible' : undefined)));
      // Whichever answered, the append is there for every later read.
      expect(appendVisible(dbs.events, events, staged!)).toBe(true);
    }
    expect(answers).toContain('visible');
  });

  it('answers with the commit when the check never holds, and fails when the commit fails first', async () => {
    const { root } = await freshEnv();
    const watch = watchVisibleCommits(root, () => true)!;
    await expect(watch.whenVisible(root.transaction(() => root.put('k', 1)).then(() => 'committed'), () => undefined)).resolves.toBe('committed');
    await expect(watch.whenVisible(Promise.reject(new Error('disk full')), () => undefined)).rejects.toThrow('disk full');
  });

  it.skipIf(instantFlush)('tells of a commit failing after it was answered', async () => {
    const { root, dbs } = await freshEnv();
    const watch = watchVisibleCommits(root, () => true)!;
    let fail: (err: Error) => void = () => {};
    const committed = new Promise<string>((_, reject) => (fail = reject));
    const late: string[] = [];
    const answer = watch.whenVisible(committed, () => 'visible', (err) => late.push(err.message));
    expect(await untilSignalled(watch, dbs)).toBeGreaterThan(0);
    await expect(answer).resolves.toBe('visible');
    fail(new Error('fdatasync: EIO'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(late).toEqual(['fdatasync: EIO']);
  });
});
