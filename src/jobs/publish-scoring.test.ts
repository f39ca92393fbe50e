import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixtureModel } from '../serve/test-support/fixture-model.js';
import { randomAlsModel } from '../serve/test-support/random-als.js';
import { tempLmdbUrl } from '../serve/test-support/serve-fixture.js';
import { spawnNode, transpileForChild, waitForLine } from '../serve/test-support/ts-child.js';
import { openStore } from '../store/open-store.js';
import { createListScorer, inlineScorer, listAt } from './publish-scoring.js';

describe('inline scoring', () => {
  it('gives per task exactly TrainedModel.recommend / similarItems', async () => {
    const model = fixtureModel({ users: 9, items: 12 });
    const scorer = inlineScorer(model);
    const [users, items] = await scorer.score([{ kind: 'u', start: 2, end: 6, k: 4 }, { kind: 's', start: 0, end: 3, k: 5 }]);
    for (let j = 0; j < 4; j++) expect(listAt(users, j)).toEqual(model.recommend(2 + j, { k: 4, excludeSeen: true }));
    for (let j = 0; j < 3; j++) expect(listAt(items, j)).toEqual(model.similarItems(j, 5));
    expect((await createListScorer(model)).threads).toBe(1);
  });
});

describe('parallel scoring in worker threads', () => {
  it('publishes the same lists as the model computes in-process', async () => {
    const tmp = await tempLmdbUrl();
    const js = await transpileForChild(join(import.meta.dirname, '../serve/test-support/parallel-publish-child.ts'));
    const child = spawnNode(js, [tmp.url, '300', '5']);
    const line = await waitForLine(child, /^published \d+ threads \d+$/, 30_000);
    expect(line).toBe('published 1 threads 2');
    const model = randomAlsModel(300, 60, 8, 5);
    const store = await openStore(tmp.url);
    for (let u = 0; u < 300; u += 7) expect(await store.getUserRecs(1, `u${u}`)).toEqual(model.recommend(u, { k: 10, excludeSeen: true }));
    for (let i = 0; i < 60; i += 5) expect(await store.getSimilarItems(1, `i${i}`)).toEqual(model.similarItems(i, 5));
    expect((await store.getVersion(1))?.counts).toEqual({ u: 300, s: 60, p: 1, c: 60 });
    await store.close();
    await tmp.remove();
  });
});
