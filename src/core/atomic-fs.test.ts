import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeDirAtomic, writeFileAtomic } from './atomic-fs.js';

let root: string;
beforeEach(async () => { root = await mkdtemp(join(tmpdir(), 'rtrec-atomic-')); });
afterEach(async () => { await rm(root, { recursive: true, force: true }); });

describe('writeDirAtomic', () => {
  it('replaces an existing folder only when the new one is complete', async () => {
    const target = join(root, 'model');
    await writeDirAtomic(target, async (dir) => { await writeFile(join(dir, 'a'), 'old'); });
    await writeDirAtomic(target, async (dir) => { await writeFile(join(dir, 'b'), 'new'); });
    expect(await readdir(target)).toEqual(['b']);
    expect(await readdir(root)).toEqual(['model']);
  });

  it('leaves the old folder and no temp files when filling fails', async () => {
    const target = join(root, 'model');
    await writeDirAtomic(target, async (dir) => { await writeFile(join(dir, 'a'), 'old'); });
    await expect(
      writeDirAtomic(target, async (dir) => {
        await writeFile(join(dir, 'half'), 'x');
        throw new Error('disk full');
      }),
    ).rejects.toThrow('disk full');
    expect(await readFile(join(target, 'a'), 'utf8')).toBe('old');
    expect(await readdir(root)).toEqual(['model']);
  });
});

describe('writeFileAtomic', () => {
  it('writes the whole content and leaves no temp file', async () => {
    const file = join(root, 'sub', 'x.txt');
    await writeFileAtomic(file, 'hello');
    expect(await readFile(file, 'utf8')).toBe('hello');
    expect(await readdir(join(root, 'sub'))).toEqual(['x.txt']);
  });

  it('refuses a folder as the target with a clear error, leaving it and its parent untouched', async () => {
    const folder = join(root, 'a-folder');
    await mkdir(folder);
    await writeFile(join(folder, 'keep.txt'), 'keep');
    await expect(writeFileAtomic(folder, 'x')).rejects.toMatchObject({ code: 'RTREC_ERR_CONFIG_INVALID', message: expect.stringMatching(/a-folder is a folder; give the path of a file/) as string });
    expect(await readdir(folder)).toEqual(['keep.txt']);
    expect((await readdir(root)).sort()).toEqual(['a-folder']);
  });
});
