/**
 * @module Writes that never leave a half-written result: files and folders are written under a
 * temporary name beside the target and renamed into place only when complete.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { RecError } from './errors.js';

function tempSibling(target: string): string {
  return join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/**
 * Readies `path` for an atomic file write: refuses a folder there (the rename would fail after all
 * the work, with a bare EISDIR), creates the parent folders, and returns the temporary name to write
 * before renaming it to `path`.
 * @throws RTREC_ERR_CONFIG_INVALID when `path` is a folder
 */
export async function prepareFileTarget(path: string): Promise<string> {
  const existing = await stat(path).catch(() => undefined);
  if (existing?.isDirectory()) throw new RecError('RTREC_ERR_CONFIG_INVALID', `${path} is a folder; give the path of a file to write`);
  await mkdir(dirname(path), { recursive: true });
  return tempSibling(path);
}

/** Writes `data` to `path` atomically (temp file + rename). @throws RTREC_ERR_CONFIG_INVALID when `path` is a folder */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = await prepareFileTarget(path);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Where writeTextFileAtomic's producer writes: text is buffered and written in chunks. */
export interface TextSink {
  write(text: string): Promise<void>;
}

/** Characters buffered before a write to the file (about 1 MiB of mostly ASCII text). */
const TEXT_CHUNK = 1 << 20;

/**
 * Writes the text `produce` gives its sink to `path` atomically, streamed: it goes to a temporary
 * file chunk by chunk (never held whole in memory, so its size is not bounded by the largest
 * string), which is renamed to `path` once complete, after `beforeRename` (e.g. removing a record
 * that describes the old file). On any failure the temporary file is removed and `path` is untouched.
 * @throws RTREC_ERR_CONFIG_INVALID when `path` is a folder
 */
export async function writeTextFileAtomic(path: string, produce: (out: TextSink) => Promise<void>, options: { readonly beforeRename?: () => Promise<void> } = {}): Promise<void> {
  const tmp = await prepareFileTarget(path);
  const file = await open(tmp, 'w');
  let isOpen = true;
  let buffered = '';
  const flush = async () => {
    const text = buffered;
    buffered = '';
    if (text !== '') await file.writeFile(text, 'utf8');
  };
  try {
    await produce({
      async write(text) {
        buffered += text;
        if (buffered.length >= TEXT_CHUNK) await flush();
      },
    });
    await flush();
    isOpen = false;
    await file.close();
    await options.beforeRename?.();
    await rename(tmp, path);
  } catch (err) {
    if (isOpen) await file.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw err;
  }
}

/** How checkReplaceableFolder names a folder and what it may hold. */
export interface ReplaceableFolder {
  /** The folder as the message names it, e.g. `--out models/x`. */
  readonly what: string;
  /** The entries that are not the writer's own (an empty result: the folder may be replaced). */
  readonly foreign: (entries: readonly string[]) => readonly string[];
  /** What foreign entries are called in the message, e.g. "other files". */
  readonly described: string;
  /** What to give instead. */
  readonly advice: string;
}

/**
 * Refuses a `dir` that writeDirAtomic would destroy: it replaces a folder as a whole, so a folder
 * holding someone else's files must not be given. A missing folder is fine; a file is not.
 * @throws RTREC_ERR_CONFIG_INVALID
 */
export async function checkReplaceableFolder(dir: string, folder: ReplaceableFolder): Promise<void> {
  let entries: string[];
  try {
    if (!(await stat(dir)).isDirectory()) throw new RecError('RTREC_ERR_CONFIG_INVALID', `${folder.what} is a file; give a folder`);
    entries = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const foreign = folder.foreign(entries);
  if (foreign.length === 0) return;
  const shown = foreign.slice(0, 3).join(', ') + (foreign.length > 3 ? ', …' : '');
  throw new RecError('RTREC_ERR_CONFIG_INVALID', `${folder.what} holds ${folder.described} (${shown}); it is replaced as a whole, so give ${folder.advice}`);
}

/**
 * Fills a fresh temporary folder with `fill(tmpDir)` and then moves it to `target`, replacing any
 * previous folder there only after the new one is complete. On failure the temporary folder is
 * removed and the old target is untouched.
 */
export async function writeDirAtomic(target: string, fill: (dir: string) => Promise<void>): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const tmp = tempSibling(target);
  await mkdir(tmp, { recursive: true });
  try {
    await fill(tmp);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  const old = `${tmp}.old`;
  let movedOld = false;
  try {
    await rename(target, old);
    movedOld = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
  }
  try {
    await rename(tmp, target);
  } catch (err) {
    if (movedOld) await rename(old, target);
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  if (movedOld) await rm(old, { recursive: true, force: true });
}
