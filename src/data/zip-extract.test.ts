import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strToU8, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRecError } from '../core/errors.js';
import { extractZip, safeEntrySegments } from './zip-extract.js';

let root: string;
let n = 0;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'rtrec-zip-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Writes `zip` to a file and returns it with a fresh empty destination folder. */
async function setup(zip: Uint8Array): Promise<{ zipPath: string; dest: string }> {
  n++;
  const zipPath = join(root, `a${n}.zip`);
  const dest = join(root, `out${n}`);
  await writeFile(zipPath, zip);
  await mkdir(dest);
  return { zipPath, dest };
}

async function listTree(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).map((p) => p.replaceAll('\\', '/')).sort();
}

describe('safeEntrySegments', () => {
  it('accepts relative names and refuses absolute paths and parent segments', () => {
    expect(safeEntrySegments('ml/u.data')).toEqual(['ml', 'u.data']);
    expect(safeEntrySegments('./ml//x')).toEqual(['ml', 'x']);
    for (const bad of ['/etc/passwd', '\\windows\\x', 'C:/x', 'c:x', '../up', 'a/../../b', 'a\\..\\b']) {
      expect(() => safeEntrySegments(bad), bad).toThrow(/refusing zip entry/);
    }
  });
});

describe('extractZip', () => {
  const big = 'user\titem\n'.repeat(5000);

  it('extracts deflated and stored entries, stripping a single top folder', async () => {
    const zip = zipSync({
      'top/': {},
      'top/big.txt': strToU8(big),
      'top/stored.txt': [strToU8('kept as is'), { level: 0 }],
      'top/sub/deep.txt': strToU8('deep'),
      '__MACOSX/top/._big.txt': strToU8('resource fork'),
    });
    const { zipPath, dest } = await setup(zip);
    const progress: number[] = [];
    const files = await extractZip(zipPath, dest, { stripSingleRoot: true, onProgress: (done) => progress.push(done) });
    expect(files.sort()).toEqual(['big.txt', 'stored.txt', 'sub/deep.txt']);
    expect(await readFile(join(dest, 'big.txt'), 'utf8')).toBe(big);
    expect(await readFile(join(dest, 'stored.txt'), 'utf8')).toBe('kept as is');
    expect(await readFile(join(dest, 'sub', 'deep.txt'), 'utf8')).toBe('deep');
    expect(progress.at(-1)).toBe(big.length + 'kept as is'.length + 'deep'.length);
  });

  it('keeps the layout when entries do not share one top folder', async () => {
    const { zipPath, dest } = await setup(zipSync({ 'a/x.txt': strToU8('x'), 'b.txt': strToU8('b') }));
    await extractZip(zipPath, dest, { stripSingleRoot: true });
    expect(await listTree(dest)).toEqual(['a', 'a/x.txt', 'b.txt']);
  });

  it.each(['../evil.txt', '/abs/evil.txt', 'ok/../../evil.txt'])('refuses %s and writes nothing at all', async (name) => {
    const { zipPath, dest } = await setup(zipSync({ 'first.txt': strToU8('harmless'), [name]: strToU8('evil') }));
    const err = await extractZip(zipPath, dest).catch((e: unknown) => e);
    expect(isRecError(err) && err.code).toBe('RTREC_ERR_DATA_DOWNLOAD');
    expect(await readdir(dest)).toEqual([]);
    expect(await readdir(root)).not.toContain('evil.txt');
  });

  it('detects corrupted data by CRC-32', async () => {
    const zip = zipSync({ 'f.txt': [strToU8('abcdefgh'), { level: 0 }] });
    // Stored data starts after the 30-byte local header and the 5-byte name.
    zip[30 + 5 + 2] ^= 0xff;
    const { zipPath, dest } = await setup(zip);
    await expect(extractZip(zipPath, dest)).rejects.toThrow(/CRC-32 mismatch/);
  });

  it('rejects a file that is not a zip', async () => {
    const { zipPath, dest } = await setup(strToU8('<html>not found</html>'));
    await expect(extractZip(zipPath, dest)).rejects.toThrow(/not a zip archive/);
  });
});
