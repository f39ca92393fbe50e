import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRecError } from '../core/errors.js';
import { detectTextEncoding, forEachLine, type LineReaderOptions } from './line-reader.js';

async function collect(path: string, options: LineReaderOptions = {}): Promise<[string, number][]> {
  const lines: [string, number][] = [];
  await forEachLine(path, (line, no) => lines.push([line, no]), options);
  return lines;
}

describe('forEachLine', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rtrec-lines-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('handles CRLF, a missing final newline, empty lines and a utf-8 BOM', async () => {
    const path = join(dir, 'mixed.txt');
    await writeFile(path, '\ufeffone\r\n\r\ntwo\nthree');
    expect(await collect(path)).toEqual([['one', 1], ['', 2], ['two', 3], ['three', 4]]);
  });

  it('decodes multi-byte utf-8 split across tiny chunks', async () => {
    const path = join(dir, 'utf8.txt');
    const text = 'Amélie (2001)\n東京物語\n😀 ok\n';
    await writeFile(path, text, 'utf8');
    for (const chunkBytes of [1, 2, 3, 5, 7]) {
      expect((await collect(path, { chunkBytes })).map(([l]) => l)).toEqual(['Amélie (2001)', '東京物語', '😀 ok']);
    }
  });

  it('decodes latin-1 bytes', async () => {
    const path = join(dir, 'latin1.txt');
    // 0xE9 is é and 0xF1 is ñ in ISO-8859-1; as utf-8 these bytes would be invalid.
    await writeFile(path, Buffer.from([0x43, 0x61, 0x66, 0xe9, 0x0a, 0x45, 0x6c, 0x20, 0x4e, 0x69, 0xf1, 0x6f, 0x0a]));
    expect((await collect(path, { encoding: 'latin-1' })).map(([l]) => l)).toEqual(['Café', 'El Niño']);
    expect(await detectTextEncoding(path)).toBe('latin-1');
  });

  it('detects utf-8, including when the sample ends inside a character', async () => {
    const path = join(dir, 'u.txt');
    await writeFile(path, 'Amélie\n', 'utf8');
    expect(await detectTextEncoding(path)).toBe('utf-8');
    // 'Amé' is 4 bytes; a 3-byte sample cuts the é in half.
    expect(await detectTextEncoding(path, 3)).toBe('utf-8');
  });

  it('reports bytes read against the file size', async () => {
    const path = join(dir, 'progress.txt');
    await writeFile(path, 'x\n'.repeat(100));
    const seen: [number, number][] = [];
    await forEachLine(path, () => undefined, { chunkBytes: 64, onBytes: (a, b) => seen.push([a, b]) });
    expect(seen.length).toBe(4);
    expect(seen.at(-1)).toEqual([200, 200]);
  });

  it('stops when the callback throws', async () => {
    const path = join(dir, 'stop.txt');
    await writeFile(path, 'a\nb\nc\n');
    const seen: string[] = [];
    const err = await forEachLine(path, (line) => {
      seen.push(line);
      if (line === 'b') throw new Error('stop here');
    }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('stop here');
    expect(seen).toEqual(['a', 'b']);
  });

  it('fails with RTREC_ERR_DATA_NOT_FOUND for a missing file or a folder', async () => {
    for (const path of [join(dir, 'nope.txt'), await mkdir(join(dir, 'sub'), { recursive: true }).then(() => join(dir, 'sub'))]) {
      const err = await forEachLine(path, () => undefined).catch((e: unknown) => e);
      expect(isRecError(err) && err.code).toBe('RTREC_ERR_DATA_NOT_FOUND');
      expect((err as Error).message).toContain(path);
    }
  });
});
