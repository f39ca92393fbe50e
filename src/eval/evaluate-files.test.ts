import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rejection } from '../../test/support/rejection.js';
import { evaluateFiles } from './evaluate-files.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rtrec-eval-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let fileCounter = 0;
async function csv(...lines: string[]): Promise<string> {
  const path = join(dir, `f${fileCounter++}.csv`);
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}

const ln = Math.log;

describe('evaluateFiles on small hand-computed files', () => {
  it('ranks by score, ties in file order, and reports the JSON keys', async () => {
    // alice's scores: b 0.5, y 0.9, a 0.5 → order y, b, a (the tie b/a keeps file order, not id order).
    // bob's: q 0.2, p 0.7 → p, q.  carol has truth only; dave predictions only.
    const truth = await csv('userId,itemId,rating,timestamp', 'alice,a,4,100', 'alice,z,5,101', 'bob,p,3,102', 'carol,x,2,103');
    const pred = await csv('userId,itemId,score', 'alice,b,0.5', 'alice,y,0.9', 'alice,a,0.5', 'bob,q,0.2', 'bob,p,0.7', 'dave,a,1');
    const at3 = await evaluateFiles({ truth, pred, k: 3, progress: false });
    // Users in both: alice, bob. alice hits a at rank 3 (2 relevant); bob hits p at rank 1 (1 relevant).
    expect(at3.users).toBe(2);
    expect(at3.precision).toBeCloseTo((1 / 3 + 1 / 3) / 2, 12);
    expect(at3.recall).toBeCloseTo((1 / 2 + 1) / 2, 12);
    expect(at3.map).toBeCloseTo((1 / 3 / 2 + 1 / 1) / 2, 12); // alice: (1 hit / rank 3) / 2 relevant
    expect(at3.mapAtK).toBeCloseTo((1 / 3 / 2 + 1 / 1) / 2, 12); // min(2, 3) = 2
    // nDCG over the 3 truth users (carol adds 0): alice (1/ln4)/(1/ln2 + 1/ln3), bob 1.
    expect(at3.ndcg).toBeCloseTo((1 / ln(4) / (1 / ln(2) + 1 / ln(3)) + 1 + 0) / 3, 12);
    expect(Object.keys(at3)).toEqual(['precision', 'recall', 'ndcg', 'map', 'mapAtK', 'rmse', 'mae', 'r2', 'explainedVariance', 'k', 'users']);
    expect(at3.rmse).toBeNull();
    expect(at3.k).toBe(3);

    // k = 2: alice's top 2 is [y, b] → no hit; an id-order tie-break would have put a at rank 2.
    const at2 = await evaluateFiles({ truth, pred, k: 2, progress: false });
    expect(at2.precision).toBeCloseTo((0 + 1 / 2) / 2, 12);
    expect(at2.recall).toBeCloseTo((0 + 1) / 2, 12);
  });

  it('reads ids in both files as the data loader does, spaces kept: a space-separated CSV still matches itself', async () => {
    const truth = await csv('userId,itemId,rating,timestamp', 'u1, i1,5,100', 'u1, i2,4,101');
    const pred = await csv('userId,itemId,score', 'u1, i1,0.9', 'u1,i2,0.8');
    const at2 = await evaluateFiles({ truth, pred, k: 2, progress: false });
    // " i1" matches " i1"; "i2" is another id than " i2".
    expect(at2.users).toBe(1);
    expect(at2.precision).toBeCloseTo(1 / 2, 12);
  });

  it('ignores a rank column when there is a score (Recommenders re-ranks), and uses it when there is none', async () => {
    const truth = await csv('userId,itemId', 'u,a');
    const scored = await csv('userId,itemId,score,rank', 'u,b,0.9,2', 'u,a,0.1,1');
    const ranked = await csv('userId,itemId,rank', 'u,b,2', 'u,a,1');
    expect((await evaluateFiles({ truth, pred: scored, k: 1, progress: false })).precision).toBe(0);
    expect((await evaluateFiles({ truth, pred: ranked, k: 1, progress: false })).precision).toBe(1);
  });

  it('rating predictions give rating metrics; header columns in any order and case; quoted ids', async () => {
    // Joined: y = [4, 2], ŷ = [3, 2.5] → d = [1, −0.5].
    const truth = await csv('userid,ITEMID,rating', '"u,1",i1,4', 'u2,i2,2', 'u3,i3,1');
    const pred = await csv('prediction,itemId,userId', '3,i1,"u,1"', '2.5,i2,u2', '5,i9,u9');
    const r = await evaluateFiles({ truth, pred, progress: false });
    expect(r.rmse).toBeCloseTo(Math.sqrt((1 + 0.25) / 2), 12);
    expect(r.mae).toBeCloseTo(0.75, 12);
    // ȳ = 3, SS_tot = 2, SS_res = 1.25 → R² = 0.375; mean d = 0.25, Var(d) = 0.5625, Var(y) = 1 → EV = 0.4375.
    expect(r.r2).toBeCloseTo(0.375, 12);
    expect(r.explainedVariance).toBeCloseTo(0.4375, 12);
    expect(r.users).toBe(2);
    expect(r.precision).toBeNull();
    expect(r.k).toBe(10);
  });

  it('with a train file adds the beyond-accuracy keys', async () => {
    // train: t1 {a,b}, t2 {a} → N = 3, n_a = 2, n_b = 1. Lists (k = 2): u [a, c]; catalog {a, c} / {a, b}.
    const train = await csv('userId,itemId', 't1,a', 't1,b', 't2,a');
    const truth = await csv('userId,itemId', 'u,c');
    const pred = await csv('userId,itemId,score', 'u,a,2', 'u,c,1', 'u,b,0');
    const r = await evaluateFiles({ truth, pred, train, k: 2, progress: false });
    expect(r.catalogCoverage).toBeCloseTo(2 / 2, 12);
    expect(r.distributionalCoverage).toBeCloseTo(1, 12); // two items, p = 1/2 each → 1 bit
    expect(r.novelty).toBeCloseTo((-Math.log2(2 / 3) + 0) / 2, 12); // c is not in train
    expect(r.diversity).toBeCloseTo(1, 12); // a and c never co-occur
    expect(r.precision).toBeCloseTo(1 / 2, 12);
  });
});

describe('evaluateFiles input formats', () => {
  it('reads MovieLens-style .test/.base truth and train and a .tsv predictions file', async () => {
    // Made-up rows in u.data layout (user \t item \t rating \t time, no header).
    const truthPath = join(dir, 'split.test');
    const trainPath = join(dir, 'split.base');
    const predPath = join(dir, 'pred.tsv');
    await writeFile(truthPath, '7\t70\t4\t1000\n7\t71\t2\t1001\n8\t80\t5\t1002\n');
    await writeFile(trainPath, '7\t72\t3\t900\n8\t70\t1\t901\n');
    // Blank lines are skipped.
    await writeFile(predPath, 'userId\titemId\tscore\n\n7\t71\t0.3\n7\t73\t0.9\n8\t80\t0.5\n');
    const r = await evaluateFiles({ truth: truthPath, pred: predPath, train: trainPath, k: 2, progress: false });
    // user 7: [73, 71] hits 71 at rank 2 (2 relevant); user 8: [80] hits at rank 1 (1 relevant).
    expect(r.precision).toBeCloseTo((1 / 2 + 1 / 2) / 2, 12);
    expect(r.recall).toBeCloseTo((1 / 2 + 1) / 2, 12);
    expect(r.map).toBeCloseTo((1 / 2 / 2 + 1) / 2, 12);
    // Recommended {73, 71, 80}; train items {72, 70}.
    expect(r.catalogCoverage).toBeCloseTo(3 / 2, 12);
  });
});

describe('evaluateFiles input errors', () => {
  it('names file:line for a bad header, field count, number or duplicate pair', async () => {
    const truth = await csv('userId,itemId', 'u,a');
    const noItem = await csv('userId,score', 'u,1');
    let err = await rejection(evaluateFiles({ truth, pred: noItem, progress: false }));
    expect(err.code).toBe('RTREC_ERR_EVAL_INPUT');
    expect(err.message).toContain(`${noItem}:1:`);

    const badScore = await csv('userId,itemId,score', 'u,a,1', 'u,b,high');
    err = await rejection(evaluateFiles({ truth, pred: badScore, progress: false }));
    expect(err.code).toBe('RTREC_ERR_EVAL_INPUT');
    expect(err.message).toContain(`${badScore}:3:`);

    const short = await csv('userId,itemId,score', 'u,a');
    err = await rejection(evaluateFiles({ truth, pred: short, progress: false }));
    expect(err.message).toContain(`${short}:2:`);

    const dup = await csv('userId,itemId,score', 'u,a,1', 'v,a,1', 'u,b,1', 'u,a,2');
    err = await rejection(evaluateFiles({ truth, pred: dup, progress: false }));
    expect(err.message).toContain(`${dup}:5:`);
    expect(err.message).toContain('line 2');

    const badRating = await csv('userId,itemId,rating', 'u,a,');
    err = await rejection(evaluateFiles({ truth: badRating, pred: dup, progress: false }));
    expect(err.message).toContain(`${badRating}:2:`);

    const emptyId = await csv('userId,itemId', ' ,a');
    err = await rejection(evaluateFiles({ truth: emptyId, pred: dup, progress: false }));
    expect(err.message).toContain(`${emptyId}:2:`);
  });

  it('refuses empty files, rating predictions without truth ratings, and predictions matching nothing', async () => {
    const truth = await csv('userId,itemId', 'u,a');
    const headerOnly = await csv('userId,itemId,score');
    expect((await rejection(evaluateFiles({ truth, pred: headerOnly, progress: false }))).code).toBe('RTREC_ERR_EVAL_INPUT');
    const blank = await csv('');
    expect((await rejection(evaluateFiles({ truth: blank, pred: headerOnly, progress: false }))).code).toBe('RTREC_ERR_EVAL_INPUT');

    const ratingPred = await csv('userId,itemId,prediction', 'u,a,3');
    const err = await rejection(evaluateFiles({ truth, pred: ratingPred, progress: false }));
    expect(err.message).toContain('rating column');

    const rated = await csv('userId,itemId,rating', 'v,b,3');
    const none = await rejection(evaluateFiles({ truth: rated, pred: ratingPred, progress: false }));
    expect(none.code).toBe('RTREC_ERR_EVAL_INPUT');
  });

  it('reports a missing file as RTREC_ERR_DATA_NOT_FOUND', async () => {
    const truth = await csv('userId,itemId', 'u,a');
    const err = await rejection(evaluateFiles({ truth, pred: join(dir, 'nope.csv'), progress: false }));
    expect(err.code).toBe('RTREC_ERR_DATA_NOT_FOUND');
  });
});
