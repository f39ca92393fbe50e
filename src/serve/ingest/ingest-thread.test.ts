import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEventConfig } from '../../events/event-config.js';
import type { OnlineStore } from '../../store/online-store.js';
import type { ActiveVersionWatcher } from '../active-version.js';
import { testConfig } from '../test-support/serve-fixture.js';
import { startIngestThread } from './ingest-thread.js';

// A stand-in thread: answers its first ingest with an outcome written into version `served + 1` (as
// a thread that saw a switch before the app did), later ones in the version the app serves.
const STAND_IN = `import { parentPort } from 'node:worker_threads';
parentPort.on('message', (m) => {
  if (m.type === 'close') { parentPort.postMessage({ type: 'closed' }); return; }
  parentPort.postMessage({ type: 'outcome', id: m.id, outcome: { results: [], updatedUsers: 0, version: m.id === 1 ? m.served + 1 : m.served } });
});
parentPort.postMessage({ type: 'ready' });
`;

describe('the event-ingest thread client', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rtrec-ingest-client-'));
    await writeFile(join(dir, 'stand-in.mjs'), STAND_IN);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('renews the app\u2019s read snapshot and re-reads the active version before an outcome in another version resolves', async () => {
    const calls: string[] = [];
    let served = 4;
    const store = { renewReadSnapshot: () => calls.push('renew') } as unknown as OnlineStore;
    const watcher = {
      current: () => ({ version: served }),
      refresh: () => {
        calls.push(`refresh from ${served}`);
        served = 5;
        return Promise.resolve();
      },
    } as unknown as ActiveVersionWatcher;
    const thread = await startIngestThread({
      storeUrl: 'lmdb:///unused',
      config: testConfig(),
      eventConfig: loadEventConfig(''),
      store,
      watcher,
      log: { info: () => undefined, warn: () => undefined, error: () => undefined },
      onStopped: () => calls.push('stopped'),
      entry: pathToFileURL(join(dir, 'stand-in.mjs')),
    });
    try {
      const outcome = await thread.ingest([]);
      expect(outcome.version).toBe(5);
      expect(calls).toEqual(['renew', 'refresh from 4']);
      // Same version as served now: no second look at the active pointer.
      expect((await thread.ingest([])).version).toBe(5);
      expect(calls).toEqual(['renew', 'refresh from 4', 'renew']);
    } finally {
      await thread.close();
    }
    expect(calls).not.toContain('stopped');
  });
});
