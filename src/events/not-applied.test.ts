import { describe, expect, it } from 'vitest';
import { RecError } from '../core/errors.js';
import { failedBecause, joinReasons, plainReason } from './not-applied.js';

describe('not-applied reasons', () => {
  it('tells the client an rtrec error by its code and meaning, and keeps its message for the log', () => {
    const err = new RecError('RTREC_ERR_STORE_UNAVAILABLE', 'redis://cache.internal:6380/2: EVALSHA failed: connection reset');
    const why = failedBecause('the lists of version 3 could not be updated', err);
    expect(why.reason).toMatch(/^the lists of version 3 could not be updated \(RTREC_ERR_STORE_UNAVAILABLE: The online store cannot be reached/);
    expect(why.reason).not.toContain('cache.internal');
    expect(why.reason).not.toContain('6380');
    expect(why.detail).toBe('the lists of version 3 could not be updated: redis://cache.internal:6380/2: EVALSHA failed: connection reset');
  });

  it('says nothing of an error that is not rtrec\u2019s own but that it was internal', () => {
    const why = failedBecause('the live popularity could not be updated', new Error("ENOENT: no such file or directory, open '/srv/secret/data.mdb'"));
    expect(why.reason).toBe('the live popularity could not be updated (an internal error; the server log has the details)');
    expect(why.detail).toContain('/srv/secret/data.mdb');
  });

  it('joins reasons in order and keeps a lone one as it is', () => {
    const a = plainReason('no published version is loaded');
    const b = failedBecause('x', new Error('at /tmp/y'));
    expect(joinReasons(a, undefined)).toBe(a);
    expect(joinReasons(undefined, b)).toBe(b);
    expect(joinReasons(undefined, undefined)).toBeUndefined();
    expect(joinReasons(a, b)).toEqual({ reason: `${a.reason}; ${b.reason}`, detail: `${a.detail}; ${b.detail}` });
  });
});
