import { describe, expect, it } from 'vitest';
import type { VersionRecord } from '../store/online-store.js';
import { VersionSnapshot } from './active-version.js';

function snapshot(metadata: ({ genres?: string | string[]; genre?: string } | null)[]): VersionSnapshot {
  const record = { version: 1, status: 'ready' } as unknown as VersionRecord;
  const catalog = { ids: metadata.map((_, i) => `i${i}`), metadata };
  return new VersionSnapshot(record, catalog, { items: new Int32Array(0), scores: new Float32Array(0) });
}

describe('VersionSnapshot.genreMask', () => {
  it('marks the items listing a genre in genres or genre, case-insensitively, across separators', () => {
    const snap = snapshot([{ genres: ['Comedy', 'Drama'] }, { genres: 'Action| comedy' }, null, { genre: 'COMEDY,War' }, { genres: 'Drama' }]);
    expect([...snap.genreMask('comedy')]).toEqual([1, 1, 0, 1, 0]);
    expect([...snap.genreMask('War')]).toEqual([0, 0, 0, 1, 0]);
    expect([...snap.genreMask('Western')]).toEqual([0, 0, 0, 0, 0]);
  });

  it('keeps real genres cached however many made-up genres were asked for first', () => {
    const snap = snapshot([{ genres: ['Comedy'] }, { genres: ['Drama'] }]);
    for (let g = 0; g < 1000; g++) expect(snap.genreMask(`zz${g}`).every((b) => b === 0)).toBe(true);
    // Made-up genres share one empty mask; a real one is built once and then reused.
    expect(snap.genreMask('zz1')).toBe(snap.genreMask('zz2'));
    const comedy = snap.genreMask('Comedy');
    expect([...comedy]).toEqual([1, 0]);
    expect(snap.genreMask('comedy')).toBe(comedy);
  });
});
