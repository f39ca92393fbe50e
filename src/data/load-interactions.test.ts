import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRecError, type ErrorCode } from '../core/errors.js';
import { IdMap } from '../core/ids.js';
import type { Interactions } from './interactions.js';
import { loadInteractionsFile } from './load-interactions.js';
import type { LoadOptions } from './load-options.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rtrec-load-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fileWith(name: string, content: string | Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

/** Rows as [userId, itemId, rating, timestamp] with original ids, for easy comparison. */
function rows(x: Interactions): [string, string, number | null, number | null][] {
  return Array.from({ length: x.length }, (_, i) => [
    x.users.idOf(x.user[i]),
    x.items.idOf(x.item[i]),
    x.rating === null ? null : x.rating[i],
    x.timestamp === null ? null : x.timestamp[i],
  ]);
}

async function loadError(path: string, options: LoadOptions = {}): Promise<{ code: ErrorCode; message: string }> {
  const err = await loadInteractionsFile(path, options).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isRecError(err)) throw new Error(`expected a RecError, got ${String(err)}`);
  return { code: err.code, message: err.message };
}

describe('loadInteractionsFile: generic CSV/TSV/JSONL', () => {
  it('reads canonical CSV with dense indices in order of first appearance', async () => {
    const path = await fileWith('canon.csv', 'userId,itemId,rating,timestamp\nalice,m1,4,100\nbob,m2,3.5,200\nalice,m2,5,300\n');
    const x = await loadInteractionsFile(path);
    expect(x.length).toBe(3);
    expect(Array.from(x.user)).toEqual([0, 1, 0]);
    expect(Array.from(x.item)).toEqual([0, 1, 1]);
    expect(x.users.toArray()).toEqual(['alice', 'bob']);
    expect(rows(x)).toEqual([['alice', 'm1', 4, 100], ['bob', 'm2', 3.5, 200], ['alice', 'm2', 5, 300]]);
  });

  it('maps runs of the same user (files sorted by user) and returning users correctly', async () => {
    const path = await fileWith('sorted.csv', 'userId,itemId\nu1,a\nu1,b\nu2,a\nu2,c\nu1,c\n');
    const x = await loadInteractionsFile(path);
    expect(Array.from(x.user)).toEqual([0, 0, 1, 1, 0]);
    expect(Array.from(x.item)).toEqual([0, 1, 0, 2, 2]);
  });

  it('maps column names by option, in any order, ignoring extra columns', async () => {
    const path = await fileWith('mapped.csv', 'when,score,extra,who,what\n2001-09-09T01:46:40Z,2,x,u1,i1\n1000000060,1,y,u2,i1\n');
    const x = await loadInteractionsFile(path, { userCol: 'who', itemCol: 'what', ratingCol: 'score', timestampCol: 'when' });
    expect(rows(x)).toEqual([['u1', 'i1', 2, 1e9], ['u2', 'i1', 1, 1e9 + 60]]);
  });

  it('finds common aliases without options (user_id, movieId) and treats a missing rating as implicit', async () => {
    const path = await fileWith('alias.csv', 'user_id,movieId\n1,10\n2,10\n');
    const x = await loadInteractionsFile(path);
    expect(x.rating).toBeNull();
    expect(x.timestamp).toBeNull();
    expect(rows(x)).toEqual([['1', '10', null, null], ['2', '10', null, null]]);
  });

  it('reads quoted ids containing commas, quotes and line breaks', async () => {
    const path = await fileWith('quoted.csv', 'userId,itemId\n"a,b","say ""hi"""\n"multi\nline",plain\n');
    expect(rows(await loadInteractionsFile(path))).toEqual([['a,b', 'say "hi"', null, null], ['multi\nline', 'plain', null, null]]);
  });

  it('reads TSV with a header', async () => {
    const path = await fileWith('data.tsv', 'userId\titemId\trating\nu"1\ti,1\t2\n');
    expect(rows(await loadInteractionsFile(path))).toEqual([['u"1', 'i,1', 2, null]]);
  });

  it('reads JSONL with numeric or string ids and ISO or numeric timestamps', async () => {
    const path = await fileWith(
      'events.jsonl',
      '{"user":"u1","item":7,"rating":4.5,"ts":"1970-01-01T00:00:10Z"}\n\n{"user":2,"item":"7","rating":"3","ts":20}\n',
    );
    const x = await loadInteractionsFile(path, { userCol: 'user', itemCol: 'item', timestampCol: 'ts' });
    expect(rows(x)).toEqual([['u1', '7', 4.5, 10], ['2', '7', 3, 20]]);
    expect(x.items.size).toBe(1);
  });

  it('reads a latin-1 generic file when asked', async () => {
    const path = await fileWith('latin.csv', Buffer.concat([Buffer.from('userId,itemId\nJos'), Buffer.from([0xe9]), Buffer.from(',x\n')]));
    expect(rows(await loadInteractionsFile(path, { encoding: 'latin-1' }))[0][0]).toBe('José');
  });

  it('extends shared id maps so test rows reuse train indices and append unknown ids', async () => {
    const users = IdMap.fromArray(['u1', 'u2']);
    const items = IdMap.fromArray(['a', 'b', 'c']);
    const path = await fileWith('test.csv', 'userId,itemId\nu2,c\nu3,a\nu1,d\n');
    const x = await loadInteractionsFile(path, { users, items });
    expect(x.users).toBe(users);
    expect(Array.from(x.user)).toEqual([1, 2, 0]);
    expect(Array.from(x.item)).toEqual([2, 0, 3]);
    expect(items.toArray()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('reads MovieLens rating files (u.data tab-separated, ratings.dat ::-separated) without a header', async () => {
    const udata = await fileWith('u1.base', '3\t30\t4\t881250949\n1\t30\t2\t881250950\n');
    expect(rows(await loadInteractionsFile(udata))).toEqual([['3', '30', 4, 881250949], ['1', '30', 2, 881250950]]);
    const dat = await fileWith('ratings.dat', '5::50::3::978300760\n');
    expect(rows(await loadInteractionsFile(dat))).toEqual([['5', '50', 3, 978300760]]);
  });
});

describe('loadInteractionsFile: errors', () => {
  const header = 'userId,itemId,rating,timestamp\n';
  const good = 'u1,i1,4,100\n';

  it.each([
    ['wrong column count', `${header}${good}u2,i2,3\n`, 3, 'expected 4 columns, found 3'],
    ['non-numeric rating', `${header}${good}${good}u2,i2,five,100\n`, 4, 'rating "five" is not a number'],
    ['non-finite rating', `${header}u2,i2,Infinity,100\n`, 2, 'rating "Infinity" is not finite'],
    ['empty rating', `${header}u2,i2,,100\n`, 2, 'empty rating'],
    ['bad timestamp', `${header}${good}u2,i2,3,last week\n`, 3, 'bad timestamp "last week"'],
    ['empty user id', `${header},i2,3,100\n`, 2, 'empty userId'],
    ['empty item id', `${header}u1, ,3,100\n`, 2, 'empty itemId'],
    ['malformed quotes', `${header}u1,"i1"x,3,100\n`, 2, 'unexpected "x" after a closing quote'],
  ])('%s → RTREC_ERR_DATA_BAD_ROW at file:line', async (_name, content, line, reason) => {
    const path = await fileWith('bad.csv', content);
    const err = await loadError(path);
    expect(err.code).toBe('RTREC_ERR_DATA_BAD_ROW');
    expect(err.message).toContain(`${path}:${line}: ${reason}`);
  });

  it('counts physical lines, including blank lines and multi-line records, in the reported line', async () => {
    const path = await fileWith('lines.csv', `${header}"multi\nline",i1,4,100\n\nu3,i3,4\n`);
    expect((await loadError(path)).message).toContain(`${path}:5: expected 4 columns, found 3`);
  });

  it('names a missing mapped column', async () => {
    const path = await fileWith('cols.csv', 'user,item\nu1,i1\n');
    const err = await loadError(path, { ratingCol: 'stars' });
    expect(err.code).toBe('RTREC_ERR_DATA_BAD_ROW');
    expect(err.message).toContain(`${path}:1: no rating column "stars" in header "user,item"`);
    const noUser = await fileWith('nouser.csv', 'person,item\np,i\n');
    expect((await loadError(noUser)).message).toContain(`${noUser}:1: no user column (looked for userId`);
    expect((await loadError(noUser, { userCol: 'who' })).message).toContain('no user column "who"');
  });

  it('rejects empty and header-only files with RTREC_ERR_DATA_EMPTY', async () => {
    for (const [name, content] of [['empty.csv', ''], ['blank.csv', '\n\n  \n'], ['empty.jsonl', '\n'], ['empty.data', '']]) {
      const err = await loadError(await fileWith(name, content));
      expect(err.code).toBe('RTREC_ERR_DATA_EMPTY');
      expect(err.message).toContain('no rows');
    }
    const headerOnly = await loadError(await fileWith('header.csv', header));
    expect(headerOnly.code).toBe('RTREC_ERR_DATA_EMPTY');
    expect(headerOnly.message).toContain('header but no rows');
  });

  it('rejects bad JSONL rows with file:line', async () => {
    const first = '{"userId":"u","itemId":"i","rating":1}\n';
    const cases: [string, number, string][] = [
      [`${first}{"userId":"u",\n`, 2, 'invalid JSON'],
      [`${first}[1,2]\n`, 2, 'expected a JSON object'],
      [`${first}\n{"userId":"u","itemId":"i"}\n`, 3, 'missing rating'],
      [`${first}{"userId":"u","itemId":"i","rating":"x"}\n`, 2, 'rating "x" is not a number'],
      [`${first}{"userId":"","itemId":"i","rating":1}\n`, 2, 'empty userId'],
      [`${first}{"userId":{"a":1},"itemId":"i","rating":1}\n`, 2, 'userId must be a string or number'],
      ['{"who":"u","itemId":"i"}\n', 1, 'no user column'],
    ];
    for (const [content, line, reason] of cases) {
      const path = await fileWith('bad.jsonl', content);
      const err = await loadError(path);
      expect(err.code).toBe('RTREC_ERR_DATA_BAD_ROW');
      expect(err.message).toContain(`${path}:${line}: ${reason}`);
    }
  });

  it('rejects wrong column counts in MovieLens files', async () => {
    const path = await fileWith('u.data', '1\t2\t3\t4\n1\t2\t3\n');
    const err = await loadError(path);
    expect(err.message).toContain(`${path}:2: expected 4 columns, found 3`);
  });

  it('reports missing files and unknown extensions', async () => {
    const missing = await loadError(join(dir, 'missing.csv'));
    expect(missing.code).toBe('RTREC_ERR_DATA_NOT_FOUND');
    expect(missing.message).toContain('missing.csv');
    const unknown = await loadError(await fileWith('data.parquet', 'x'));
    expect(unknown.code).toBe('RTREC_ERR_DATA_UNKNOWN_FORMAT');
    expect(unknown.message).toMatch(/\.csv, \.tsv, \.jsonl/);
  });
});
