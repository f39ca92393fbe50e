import { describe, expect, it } from 'vitest';
import { ownWriterIdentity, writerGone } from './writer-identity.js';

describe('writerGone', () => {
  const self = { host: 'node-a', pid: 10, pidNamespace: 'pid:[1]' };
  const dead = () => false;
  const alive = () => true;

  it('tells only for a writer in the same host and pid namespace', () => {
    expect(writerGone({ host: 'node-a', pid: 77, pidNamespace: 'pid:[1]' }, self, dead)).toBe(true);
    expect(writerGone({ host: 'node-a', pid: 77, pidNamespace: 'pid:[1]' }, self, alive)).toBe(false);
    expect(writerGone({ host: 'node-a', pid: 10, pidNamespace: 'pid:[1]' }, self, dead)).toBe(false);
    // Same host name, other pid namespace (a sibling container): pid 77 there is not ours to probe.
    expect(writerGone({ host: 'node-a', pid: 77, pidNamespace: 'pid:[2]' }, self, dead)).toBeUndefined();
    // A record from before namespaces were recorded, or another host.
    expect(writerGone({ host: 'node-a', pid: 77 }, self, dead)).toBeUndefined();
    expect(writerGone({ host: 'node-b', pid: 77, pidNamespace: 'pid:[1]' }, self, dead)).toBeUndefined();
  });

  it('describes this process', () => {
    const me = ownWriterIdentity();
    expect(me.pid).toBe(process.pid);
    if (process.platform === 'linux') expect(me.pidNamespace).toMatch(/^pid:\[\d+\]$/);
  });
});
