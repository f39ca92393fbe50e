import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRecError } from '../core/errors.js';
import { loadDataset } from './load-dataset.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const ML100K = join(process.env.RTREC_DATA_DIR ?? resolve(REPO, '..', 'shared', 'data'), 'ml-100k');

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'rtrec-dataset-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function folderWith(name: string, files: Record<string, string | Buffer>): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  for (const [file, content] of Object.entries(files)) await writeFile(join(dir, file), content);
  return dir;
}

const latin1 = (s: string) => Buffer.from(s, 'latin1');

async function errorOf(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isRecError(err)) throw new Error(`expected a RecError, got ${String(err)}`);
  return { code: err.code, message: err.message };
}

describe('loadDataset: MovieLens folders (made-up rows)', () => {
  it('reads a 100K-style folder: u.data, latin-1 u.item with genre flags named by u.genre', async () => {
    const dir = await folderWith('fake-100k', {
      'u.data': '10\t100\t5\t900000000\n11\t101\t3\t900000100\n10\t101\t1\t900000200\n',
      'u.genre': 'Noir|0\nSpace|1\nMusical|2\n\n',
      'u.item': latin1('100|Café Noir (1990)|01-Jan-1990||http://example.test/100|1|0|1\n101|Rocket Boy (1991)|02-Feb-1991||http://example.test/101|0|1|0\n'),
    });
    const ds = await loadDataset(dir);
    const x = ds.interactions;
    expect(ds.source).toBe(dir);
    expect(x.length).toBe(3);
    expect(x.users.toArray()).toEqual(['10', '11']);
    expect(x.items.toArray()).toEqual(['100', '101']);
    expect(Array.from(x.rating!)).toEqual([5, 3, 1]);
    expect(Array.from(x.timestamp!)).toEqual([900000000, 900000100, 900000200]);
    expect(ds.itemMetadata?.fields).toEqual(['title', 'releaseDate', 'imdbUrl', 'genres']);
    expect(ds.itemMetadata?.byId.get('100')).toEqual({ title: 'Café Noir (1990)', releaseDate: '01-Jan-1990', imdbUrl: 'http://example.test/100', genres: ['Noir', 'Musical'] });
    expect(ds.itemMetadata?.byId.get('101')?.genres).toEqual(['Space']);
  });

  it('rejects a bad u.item row with file:line', async () => {
    const dir = await folderWith('bad-100k', {
      'u.data': '1\t1\t5\t1\n',
      'u.genre': 'A|0\nB|1\n',
      'u.item': '1|T|d||u|0|1\n2|U|d||u|0|2\n',
    });
    const err = await errorOf(loadDataset(dir));
    expect(err.code).toBe('RTREC_ERR_DATA_BAD_ROW');
    expect(err.message).toContain(`${join(dir, 'u.item')}:2: genre flag "B" must be 0 or 1, got "2"`);
  });

  it('reads a 1M-style folder with latin-1 movies.dat and a 10M-style one with utf-8', async () => {
    const ratings = '1::20::5::978300760\n2::21::4::978300761\n';
    const oneM = await folderWith('fake-1m', { 'ratings.dat': ratings, 'movies.dat': latin1('20::Señor Gato (1998)::Comedy|Drama\n21::Plain (1999)::Horror\n') });
    const tenM = await folderWith('fake-10m', { 'ratings.dat': ratings, 'movies.dat': Buffer.from('20::Señor Gato (1998)::Comedy|Drama\n21::A::B (1999)::(no genres listed)\n', 'utf8') });
    for (const dir of [oneM, tenM]) {
      const ds = await loadDataset(dir);
      expect(ds.interactions.length).toBe(2);
      expect(ds.itemMetadata?.fields).toEqual(['title', 'genres']);
      expect(ds.itemMetadata?.byId.get('20')).toEqual({ title: 'Señor Gato (1998)', genres: ['Comedy', 'Drama'] });
    }
    // The title keeps its own "::" because the split uses the first and last separators.
    expect((await loadDataset(tenM)).itemMetadata?.byId.get('21')).toEqual({ title: 'A::B (1999)', genres: [] });
  });

  it('reads a latest-style folder: ratings.csv + movies.csv with quoted titles', async () => {
    const dir = await folderWith('fake-latest', {
      'ratings.csv': 'userId,movieId,rating,timestamp\n1,7,4.0,1100000000\n2,8,0.5,1100000001\n',
      'movies.csv': 'movieId,title,genres\n7,"Gizmo, The (2001)",Adventure|Animation\n8,"The ""Quote"" Film (2002)",(no genres listed)\n',
    });
    const ds = await loadDataset(dir);
    expect(ds.interactions.items.toArray()).toEqual(['7', '8']);
    expect(Array.from(ds.interactions.rating!)).toEqual([4, 0.5]);
    expect(ds.itemMetadata?.byId.get('7')).toEqual({ title: 'Gizmo, The (2001)', genres: ['Adventure', 'Animation'] });
    expect(ds.itemMetadata?.byId.get('8')).toEqual({ title: 'The "Quote" Film (2002)', genres: [] });
  });

  it('loads a folder without its item file with null metadata', async () => {
    const dir = await folderWith('ratings-only', { 'ratings.csv': 'userId,movieId,rating,timestamp\n1,7,4,1\n' });
    expect((await loadDataset(dir)).itemMetadata).toBeNull();
  });
});

describe('loadDataset: files, items file, detection errors', () => {
  it('loads a generic file and attaches a generic item file with list columns split on |', async () => {
    const dir = await folderWith('generic', {
      'events.csv': 'user,sku\nu1,s1\nu2,s2\n',
      'catalog.csv': 'sku,name,categories,price\ns1,"Lamp, desk",home|light,9.5\ns2,Mug,,3\n',
    });
    const ds = await loadDataset(join(dir, 'events.csv'), { itemCol: 'sku', itemsFile: join(dir, 'catalog.csv') });
    expect(ds.interactions.rating).toBeNull();
    expect(ds.itemMetadata?.fields).toEqual(['name', 'categories', 'price']);
    expect(ds.itemMetadata?.byId.get('s1')).toEqual({ name: 'Lamp, desk', categories: ['home', 'light'], price: '9.5' });
    expect(ds.itemMetadata?.byId.get('s2')?.categories).toEqual([]);
  });

  it('rejects duplicate ids and wrong widths in an item file', async () => {
    const dir = await folderWith('items-bad', { 'e.csv': 'userId,itemId\nu,i\n', 'dup.csv': 'itemId,title\ni,A\nj,B\ni,C\n', 'wide.csv': 'itemId,title\ni,A,extra\n' });
    const dup = await errorOf(loadDataset(join(dir, 'e.csv'), { itemsFile: join(dir, 'dup.csv') }));
    expect(dup.message).toContain(`${join(dir, 'dup.csv')}:4: duplicate item id "i" (first on line 2)`);
    const wide = await errorOf(loadDataset(join(dir, 'e.csv'), { itemsFile: join(dir, 'wide.csv') }));
    expect(wide.message).toContain(`${join(dir, 'wide.csv')}:2: expected 2 columns, found 3`);
    const missingId = await errorOf(loadDataset(join(dir, 'e.csv'), { itemsFile: join(dir, 'dup.csv'), itemIdCol: 'sku' }));
    expect(missingId.message).toContain('no item id column "sku"');
  });

  it('uses an explicit format for a file with an unusual extension', async () => {
    const dir = await folderWith('explicit', { 'log.txt': 'userId,itemId\na,b\n' });
    expect((await loadDataset(join(dir, 'log.txt'), { format: 'csv' })).interactions.length).toBe(1);
    const err = await errorOf(loadDataset(join(dir, 'log.txt')));
    expect(err.code).toBe('RTREC_ERR_DATA_UNKNOWN_FORMAT');
  });

  it('reports a missing path, an unrecognised folder, and a file format given for a folder', async () => {
    const missing = await errorOf(loadDataset(join(root, 'does-not-exist')));
    expect(missing.code).toBe('RTREC_ERR_DATA_NOT_FOUND');
    const other = await folderWith('other', { 'notes.txt': 'hello' });
    const unknown = await errorOf(loadDataset(other));
    expect(unknown.code).toBe('RTREC_ERR_DATA_UNKNOWN_FORMAT');
    expect(unknown.message).toContain('u.data, ratings.dat, ratings.csv');
    const wrong = await errorOf(loadDataset(other, { format: 'jsonl' }));
    expect(wrong.code).toBe('RTREC_ERR_DATA_UNKNOWN_FORMAT');
  });
});

describe.skipIf(!existsSync(join(ML100K, 'u.data')))('loadDataset: real MovieLens 100K', () => {
  it('has 100000 ratings by 943 users of 1682 items, and item 1 has a title and genres', async () => {
    const started = performance.now();
    const ds = await loadDataset(ML100K);
    const seconds = (performance.now() - started) / 1000;
    const x = ds.interactions;
    expect(x.length).toBe(100_000);
    expect(x.users.size).toBe(943);
    expect(x.items.size).toBe(1682);
    expect(ds.itemMetadata?.byId.size).toBe(1682);
    const one = ds.itemMetadata?.byId.get('1');
    expect(typeof one?.title).toBe('string');
    expect((one?.title as string).length).toBeGreaterThan(0);
    expect(Array.isArray(one?.genres) && one.genres.length).toBeGreaterThan(0);
    let min = Infinity;
    let max = -Infinity;
    for (const r of x.rating!) [min, max] = [Math.min(min, r), Math.max(max, r)];
    expect([min, max]).toEqual([1, 5]);
    // Generous bound for a shared 2-core machine; it takes ~0.1 s normally.
    expect(seconds).toBeLessThan(2);
  });
});
