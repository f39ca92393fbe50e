import { describe, expect, it } from 'vitest';
import { IdMap } from '../core/ids.js';
import { summarizeDataset } from './dataset-info.js';
import { InteractionsBuilder } from './interactions.js';

describe('summarizeDataset', () => {
  it('counts distinct users and items in the rows and computes hand-checked statistics', () => {
    // The shared maps hold an extra user and item that never occur in these rows.
    const b = new InteractionsBuilder({ hasRating: true, hasTimestamp: true, users: IdMap.fromArray(['ghost']), items: IdMap.fromArray(['unused']) });
    b.add('u1', 'a', 1, 86400);
    b.add('u1', 'b', 4, 0);
    b.add('u2', 'a', 2.5, 172800);
    const byId = new Map([['a', { title: 'A' }], ['zzz', { title: 'Z' }]]);
    const s = summarizeDataset({ interactions: b.build(), itemMetadata: { fields: ['title'], byId }, source: 'mem' });
    expect(s.users).toBe(2);
    expect(s.items).toBe(2);
    expect(s.interactions).toBe(3);
    expect(s.density).toBe(3 / 4);
    expect(s.rating).toEqual({ min: 1, max: 4, mean: 7.5 / 3 });
    expect(s.time).toEqual({ min: 0, max: 172800, minIso: '1970-01-01T00:00:00.000Z', maxIso: '1970-01-03T00:00:00.000Z' });
    expect(s.itemMetadataFields).toEqual(['title']);
    expect(s.itemsWithMetadata).toBe(1);
  });

  it('reports implicit feedback and missing times as null', () => {
    const b = new InteractionsBuilder({ hasRating: false, hasTimestamp: false });
    b.add('u', 'i');
    const s = summarizeDataset({ interactions: b.build(), itemMetadata: null, source: 'mem' });
    expect(s.rating).toBeNull();
    expect(s.time).toBeNull();
    expect(s.itemMetadataFields).toBeNull();
    expect(s.density).toBe(1);
  });
});
