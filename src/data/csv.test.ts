import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRecError } from '../core/errors.js';
import { CsvSyntaxError, forEachRecord, quoteCsvField, splitCsvLine, splitPlain } from './csv.js';

describe('splitCsvLine', () => {
  it('splits plain records and keeps empty fields', () => {
    expect(splitCsvLine('a,b,c')).toEqual(['a', 'b', 'c']);
    expect(splitCsvLine('a,,c,')).toEqual(['a', '', 'c', '']);
    expect(splitCsvLine('')).toEqual(['']);
  });

  it('handles quoted fields with commas and doubled quotes', () => {
    expect(splitCsvLine('7,"Gizmo, The (2001)",Comedy|Drama')).toEqual(['7', 'Gizmo, The (2001)', 'Comedy|Drama']);
    expect(splitCsvLine('8,"She said ""hi"", twice",x')).toEqual(['8', 'She said "hi", twice', 'x']);
    expect(splitCsvLine('"",""""')).toEqual(['', '"']);
    expect(splitCsvLine('a,"b"')).toEqual(['a', 'b']);
    expect(splitCsvLine('"a",')).toEqual(['a', '']);
    expect(splitCsvLine('"line\nbreak",z')).toEqual(['line\nbreak', 'z']);
  });

  it('keeps a quote inside an unquoted field literally', () => {
    expect(splitCsvLine('9,12" single,x')).toEqual(['9', '12" single', 'x']);
  });

  it('rejects an unterminated quoted field and text after a closing quote', () => {
    expect(() => splitCsvLine('1,"open')).toThrow(CsvSyntaxError);
    try {
      splitCsvLine('1,"open');
    } catch (err) {
      expect((err as CsvSyntaxError).unterminated).toBe(true);
    }
    expect(() => splitCsvLine('1,"closed"x,2')).toThrow(/after a closing quote/);
  });

  it('supports multi-character delimiters and fills a reused array', () => {
    const out: string[] = ['stale', 'stale', 'stale', 'stale', 'stale'];
    expect(splitCsvLine('1::Title::A|B', '::', out)).toBe(out);
    expect(out).toEqual(['1', 'Title', 'A|B']);
    expect(splitPlain('x\ty', '\t', out)).toEqual(['x', 'y']);
  });
});

describe('quoteCsvField', () => {
  it('quotes only when needed and round-trips through splitCsvLine', () => {
    expect(quoteCsvField('plain')).toBe('plain');
    expect(quoteCsvField('a,b')).toBe('"a,b"');
    expect(quoteCsvField('say "x"')).toBe('"say ""x"""');
    for (const value of ['a,b', 'say "x"', 'two\nlines', '"', ',', 'cr\rhere']) {
      expect(splitCsvLine(`${quoteCsvField(value)},${quoteCsvField(value)}`)).toEqual([value, value]);
    }
  });
});

describe('forEachRecord', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rtrec-csv-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('joins a quoted field spanning lines and reports the starting line', async () => {
    const path = join(dir, 'multi.csv');
    await writeFile(path, 'id,title\r\n1,"first\r\nsecond"\r\n\r\n2,plain\r\n');
    const seen: [string[], number][] = [];
    const count = await forEachRecord(path, (f, line) => seen.push([[...f], line]));
    expect(count).toBe(3);
    expect(seen).toEqual([
      [['id', 'title'], 1],
      [['1', 'first\nsecond'], 2],
      [['2', 'plain'], 5],
    ]);
  });

  it('fails with file:line on an unterminated quote at end of file', async () => {
    const path = join(dir, 'open.csv');
    await writeFile(path, 'id,title\n1,ok\n2,"never closed\n3,x\n');
    const err = await forEachRecord(path, () => undefined).catch((e: unknown) => e);
    expect(isRecError(err) && err.code).toBe('RTREC_ERR_DATA_BAD_ROW');
    expect((err as Error).message).toContain(`${path}:3: unterminated quoted field`);
  });

  it('names the line of a stray quote in a large file, and still joins quoted fields with doubled quotes', async () => {
    const path = join(dir, 'stray.csv');
    const rows = Array.from({ length: 60_000 }, (_, i) => `u${i},i${i},4`);
    rows.splice(1, 0, 'u0,"i0,5');
    await writeFile(path, `userId,itemId,rating\n${rows.join('\n')}\n`);
    const err = await forEachRecord(path, () => undefined).catch((e: unknown) => e);
    expect((err as Error).message).toContain(`${path}:3: unterminated quoted field`);
    const ok = join(dir, 'doubled.csv');
    await writeFile(ok, 'id,title\n1,"a ""b""\nc ""d"" e"\n2,x\n');
    const seen: string[][] = [];
    await forEachRecord(ok, (f) => seen.push([...f]));
    expect(seen).toEqual([['id', 'title'], ['1', 'a "b"\nc "d" e'], ['2', 'x']]);
  });

  it('splits without quoting when quoted is false', async () => {
    const path = join(dir, 'plain.tsv');
    await writeFile(path, 'a\t"b\nc\td\n');
    const seen: string[][] = [];
    await forEachRecord(path, (f) => seen.push([...f]), { delimiter: '\t', quoted: false });
    expect(seen).toEqual([['a', '"b'], ['c', 'd']]);
  });
});
