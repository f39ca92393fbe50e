/**
 * @module Safe extraction of a downloaded zip archive. Entries are listed from the central directory
 * (not by scanning for signatures, which can misfire inside compressed data), every name is checked
 * against zip-slip before anything is written, data is inflated in a streaming way with fflate and
 * each file's size and CRC-32 are verified.
 */
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { crc32 } from 'node:zlib';
import { Inflate } from 'fflate';
import { RecError } from '../core/errors.js';

export interface ZipEntry {
  /** Name as stored, `/`-separated. */
  readonly name: string;
  /** 0 stored, 8 deflate. */
  readonly method: number;
  readonly flags: number;
  readonly crc32: number;
  /** Bytes of stored (compressed) data. */
  readonly compressedSize: number;
  /** Bytes once extracted. */
  readonly size: number;
  readonly localHeaderOffset: number;
}

export interface ExtractOptions {
  /** When every entry sits under one top folder (e.g. `ml-100k/`), extract its contents directly into `destDir`. */
  stripSingleRoot?: boolean;
  /** Called as data is written: bytes written so far, total bytes of all files. */
  onProgress?: (bytesWritten: number, totalBytes: number) => void;
}

const READ_CHUNK = 1 << 20;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;

function zipError(zipPath: string, reason: string, cause?: unknown): RecError {
  return new RecError('RTREC_ERR_DATA_DOWNLOAD', `${zipPath}: ${reason}`, { cause, details: { file: zipPath } });
}

/**
 * The path segments an entry name may be written to, or throws when the name could escape the target
 * folder (absolute path, drive letter, `..` segment). Backslashes count as separators.
 */
export function safeEntrySegments(name: string, zipPath = 'archive'): string[] {
  const normal = name.replaceAll('\\', '/');
  if (normal.startsWith('/') || /^[a-zA-Z]:/.test(normal) || normal.includes('\0')) {
    throw zipError(zipPath, `refusing zip entry with an absolute path: ${JSON.stringify(name)}`);
  }
  const segments = normal.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) throw zipError(zipPath, `refusing zip entry that leaves the target folder: ${JSON.stringify(name)}`);
  return segments;
}

/** Reads the central directory of an open zip file of `size` bytes. */
export async function listZipEntries(fh: FileHandle, size: number, zipPath = 'archive'): Promise<ZipEntry[]> {
  const tailLength = Math.min(size, 22 + 0xffff);
  const tail = await readAt(fh, size - tailLength, tailLength);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === SIG_EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd === -1) throw zipError(zipPath, 'not a zip archive (no end-of-central-directory record)');
  let count = tail.readUInt16LE(eocd + 10);
  let cdSize = tail.readUInt32LE(eocd + 12);
  let cdOffset = tail.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const locator = eocd - 20;
    if (locator < 0 || tail.readUInt32LE(locator) !== SIG_ZIP64_LOCATOR) throw zipError(zipPath, 'zip64 locator missing');
    const z64 = await readAt(fh, Number(tail.readBigUInt64LE(locator + 8)), 56);
    if (z64.readUInt32LE(0) !== SIG_ZIP64_EOCD) throw zipError(zipPath, 'zip64 end record missing');
    count = Number(z64.readBigUInt64LE(32));
    cdSize = Number(z64.readBigUInt64LE(40));
    cdOffset = Number(z64.readBigUInt64LE(48));
  }
  if (cdOffset + cdSize > size) throw zipError(zipPath, 'central directory lies outside the file (truncated download?)');
  const cd = await readAt(fh, cdOffset, cdSize);
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let e = 0; e < count; e++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== SIG_CENTRAL) throw zipError(zipPath, 'corrupt central directory');
    const nameLength = cd.readUInt16LE(p + 28);
    const extraLength = cd.readUInt16LE(p + 30);
    const commentLength = cd.readUInt16LE(p + 32);
    let compressedSize = cd.readUInt32LE(p + 20);
    let entrySize = cd.readUInt32LE(p + 24);
    let localHeaderOffset = cd.readUInt32LE(p + 42);
    const name = new TextDecoder('utf-8').decode(cd.subarray(p + 46, p + 46 + nameLength));
    // Zip64 extra field (id 1): 64-bit values for exactly those fields stored as 0xffffffff, in this order.
    for (let x = p + 46 + nameLength; x + 4 <= p + 46 + nameLength + extraLength; ) {
      const id = cd.readUInt16LE(x);
      const length = cd.readUInt16LE(x + 2);
      if (id === 1) {
        let q = x + 4;
        if (entrySize === 0xffffffff) {
          entrySize = Number(cd.readBigUInt64LE(q));
          q += 8;
        }
        if (compressedSize === 0xffffffff) {
          compressedSize = Number(cd.readBigUInt64LE(q));
          q += 8;
        }
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = Number(cd.readBigUInt64LE(q));
      }
      x += 4 + length;
    }
    entries.push({ name, method: cd.readUInt16LE(p + 10), flags: cd.readUInt16LE(p + 8), crc32: cd.readUInt32LE(p + 16), compressedSize, size: entrySize, localHeaderOffset });
    p += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/**
 * Extracts `zipPath` into the existing folder `destDir`. All entry names are checked first, so a
 * hostile archive writes nothing. macOS `__MACOSX/` resource entries are skipped.
 * @returns relative paths of the files written.
 * @throws RTREC_ERR_DATA_DOWNLOAD on a corrupt archive, unsafe entry name, unsupported compression or CRC mismatch.
 */
export async function extractZip(zipPath: string, destDir: string, options: ExtractOptions = {}): Promise<string[]> {
  const fh = await open(zipPath, 'r');
  try {
    const size = (await fh.stat()).size;
    const planned = planEntries(await listZipEntries(fh, size, zipPath), zipPath, options.stripSingleRoot ?? false);
    const root = resolve(destDir);
    const totalBytes = planned.reduce((sum, p) => sum + (p.isDir ? 0 : p.entry.size), 0);
    let written = 0;
    const files: string[] = [];
    for (const { entry, segments, isDir } of planned) {
      const target = resolve(root, ...segments);
      if (!target.startsWith(root + sep)) throw zipError(zipPath, `refusing zip entry outside the target folder: ${JSON.stringify(entry.name)}`);
      if (isDir) {
        await mkdir(target, { recursive: true });
        continue;
      }
      await mkdir(resolve(target, '..'), { recursive: true });
      await extractEntry(fh, entry, target, zipPath, (n) => {
        written += n;
        options.onProgress?.(written, totalBytes);
      });
      files.push(segments.join('/'));
    }
    return files;
  } finally {
    await fh.close();
  }
}

interface PlannedEntry {
  entry: ZipEntry;
  segments: string[];
  isDir: boolean;
}

function planEntries(entries: readonly ZipEntry[], zipPath: string, stripSingleRoot: boolean): PlannedEntry[] {
  const planned: PlannedEntry[] = [];
  for (const entry of entries) {
    const segments = safeEntrySegments(entry.name, zipPath);
    if (segments.length === 0 || segments[0] === '__MACOSX') continue;
    if ((entry.flags & 1) !== 0) throw zipError(zipPath, `entry ${JSON.stringify(entry.name)} is encrypted`);
    planned.push({ entry, segments, isDir: entry.name.endsWith('/') || entry.name.endsWith('\\') });
  }
  const first = planned[0]?.segments[0];
  const singleRoot =
    stripSingleRoot &&
    first !== undefined &&
    planned.every((p) => p.segments[0] === first && (p.segments.length > 1 || p.isDir)) &&
    planned.some((p) => p.segments.length > 1);
  if (!singleRoot) return planned;
  return planned.map((p) => ({ ...p, segments: p.segments.slice(1) })).filter((p) => p.segments.length > 0);
}

async function extractEntry(fh: FileHandle, entry: ZipEntry, target: string, zipPath: string, onWritten: (bytes: number) => void): Promise<void> {
  const local = await readAt(fh, entry.localHeaderOffset, 30);
  if (local.length < 30 || local.readUInt32LE(0) !== SIG_LOCAL) throw zipError(zipPath, `corrupt local header for ${JSON.stringify(entry.name)}`);
  const dataStart = entry.localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  if (entry.method !== 0 && entry.method !== 8) throw zipError(zipPath, `entry ${JSON.stringify(entry.name)} uses unsupported compression method ${entry.method}`);

  const out = await open(target, 'w');
  let crc = 0;
  let size = 0;
  try {
    const pending: Uint8Array[] = [];
    const inflater = entry.method === 8 ? new Inflate((data) => pending.push(data)) : null;
    const flush = async () => {
      for (const data of pending) {
        crc = crc32(data, crc);
        size += data.length;
        await out.write(data);
        onWritten(data.length);
      }
      pending.length = 0;
    };
    for (let done = 0; done < entry.compressedSize; ) {
      const length = Math.min(READ_CHUNK, entry.compressedSize - done);
      const chunk = await readAt(fh, dataStart + done, length);
      if (chunk.length < length) throw zipError(zipPath, `entry ${JSON.stringify(entry.name)} is truncated`);
      done += length;
      const last = done >= entry.compressedSize;
      if (inflater === null) pending.push(chunk);
      else {
        try {
          inflater.push(chunk, last);
        } catch (err) {
          throw zipError(zipPath, `entry ${JSON.stringify(entry.name)} does not inflate: ${(err as Error).message}`, err);
        }
      }
      await flush();
    }
  } finally {
    await out.close();
  }
  if (size !== entry.size) throw zipError(zipPath, `entry ${JSON.stringify(entry.name)} is corrupt (${size} bytes extracted, ${entry.size} expected)`);
  if (crc >>> 0 !== entry.crc32 >>> 0) throw zipError(zipPath, `entry ${JSON.stringify(entry.name)} is corrupt (CRC-32 mismatch)`);
}

async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, position);
  return bytesRead === length ? buf : buf.subarray(0, bytesRead);
}

