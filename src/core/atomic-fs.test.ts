import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeDirAtomic, writeFileAtomic, writeTextFileAtomic } from './atomic-fs.js';

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

describe('writeTextFileAtomic', () => {
  it('streams to a temporary file in chunks (never one string of everything), then replaces the target', async () => {
    const target = join(root, 'rows.csv');
    await writeFile(target, 'old\n');
    const row = `${'x'.repeat(99)}\n`;
    let onDiskMidway = 0;
    let renamedAfter = false;
    await writeTextFileAtomic(
      target,
      async (out) => {
        for (let j = 0; j < 30_000; j++) await out.write(row);
        // 3 MB given so far: most of it is already in the temporary file, and the target is the old one.
        const [tmp] = (await readdir(root)).filter((f) => f !== 'rows.csv');
        onDiskMidway = (await stat(join(root, tmp))).size;
        expect(await readFile(target, 'utf8')).toBe('old\n');
      },
      { beforeRename: async () => { renamedAfter = (await readFile(target, 'utf8')) === 'old\n'; } },
    );
    expect(onDiskMidway).toBeGreaterThanOrEqual(2 * (1 << 20));
    expect(renamedAfter).toBe(true);
    expect((await stat(target)).size).toBe(30_000 * 100);
    expect(await readdir(root)).toEqual(['rows.csv']);
  });

  it('leaves the previous file and no temp file when producing fails; beforeRename does not run', async () => {
    const target = join(root, 'rows.csv');
    await writeFile(target, 'previous\n');
    let before = 0;
    await expect(
      writeTextFileAtomic(
        target,
        async (out) => {
          for (let j = 0; j < 20_000; j++) await out.write(`${'y'.repeat(99)}\n`);
          throw new Error('store went away');
        },
        { beforeRename: () => Promise.resolve(void before++) },
      ),
    ).rejects.toThrow('store went away');
    expect(await readFile(target, 'utf8')).toBe('previous\n');
    expect(before).toBe(0);
    expect(await readdir(root)).toEqual(['rows.csv']);
  });
});
