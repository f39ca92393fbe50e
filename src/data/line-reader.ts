/**
 * @module Streaming line reader: reads a text file in large chunks and hands each line to a callback,
 * so files of tens of millions of lines never exist as one string. Handles utf-8 (BOM stripped,
 * multi-byte characters split across chunks) and latin-1, `\n` and `\r\n` line ends.
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { RecError } from '../core/errors.js';

export const TEXT_ENCODINGS = ['utf-8', 'latin-1'] as const;
export type TextEncodingName = (typeof TEXT_ENCODINGS)[number];

export interface LineReaderOptions {
  /** Text encoding of the file; default utf-8. */
  encoding?: TextEncodingName;
  /** Called after each chunk with bytes read so far and the file size in bytes. */
  onBytes?: (bytesRead: number, totalBytes: number) => void;
  /** Read size in bytes; default 1 MiB. */
  chunkBytes?: number;
}

/**
 * Calls `onLine(line, lineNo)` for every line of `path` in order (lineNo is 1-based; line ends are
 * removed; empty lines are passed too so numbering stays true). A throw from `onLine` stops reading
 * and propagates.
 * @returns the number of lines read.
 * @throws RTREC_ERR_DATA_NOT_FOUND when the file is missing, unreadable or a folder.
 */
export async function forEachLine(
  path: string,
  onLine: (line: string, lineNo: number) => void,
  options: LineReaderOptions = {},
): Promise<number> {
  const totalBytes = await fileSize(path);
  const encoding = options.encoding ?? 'utf-8';
  const decoder = new StringDecoder(encoding === 'latin-1' ? 'latin1' : 'utf8');
  const stream = createReadStream(path, { highWaterMark: options.chunkBytes ?? 1 << 20 });
  let carry = '';
  let lineNo = 0;
  let bytesRead = 0;
  let atStart = true;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      bytesRead += chunk.length;
      let text = carry + decoder.write(chunk);
      if (atStart && text.length > 0) {
        atStart = false;
        if (encoding === 'utf-8' && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      }
      let start = 0;
      let nl = text.indexOf('\n');
      while (nl !== -1) {
        const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
        onLine(text.slice(start, end), ++lineNo);
        start = nl + 1;
        nl = text.indexOf('\n', start);
      }
      carry = text.slice(start);
      options.onBytes?.(bytesRead, totalBytes);
    }
  } catch (err) {
    throw asReadError(path, err);
  } finally {
    stream.destroy();
  }
  carry += decoder.end();
  if (atStart && encoding === 'utf-8' && carry.charCodeAt(0) === 0xfeff) carry = carry.slice(1);
  if (carry.length > 0) {
    onLine(carry.charCodeAt(carry.length - 1) === 13 ? carry.slice(0, -1) : carry, ++lineNo);
  }
  return lineNo;
}

/**
 * Size in bytes of a regular file.
 * @throws RTREC_ERR_DATA_NOT_FOUND when it is missing or not a file.
 */
export async function fileSize(path: string): Promise<number> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    throw new RecError('RTREC_ERR_DATA_NOT_FOUND', `${path}: no such file`, { cause: err, details: { file: path } });
  }
  if (!info.isFile()) throw new RecError('RTREC_ERR_DATA_NOT_FOUND', `${path}: not a file`, { details: { file: path } });
  return info.size;
}

/**
 * Guesses a file's encoding: utf-8 when its first `sampleBytes` (default 16 MiB) decode as valid
 * utf-8, else latin-1. MovieLens 1M item files are latin-1 while 10M and later are utf-8; a latin-1
 * accented letter followed by ASCII is never valid utf-8, so the guess is reliable for them.
 */
export async function detectTextEncoding(path: string, sampleBytes = 16 << 20): Promise<TextEncodingName> {
  const size = await fileSize(path);
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(Math.min(size, sampleBytes));
    await fh.read(buf, 0, buf.length, 0);
    try {
      // stream: true so a sample cut inside a multi-byte character is not an error.
      new TextDecoder('utf-8', { fatal: true }).decode(buf, { stream: buf.length < size });
      return 'utf-8';
    } catch {
      return 'latin-1';
    }
  } finally {
    await fh.close();
  }
}

function asReadError(path: string, err: unknown): unknown {
  if (err instanceof RecError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'EISDIR' || code === 'EACCES') {
    return new RecError('RTREC_ERR_DATA_NOT_FOUND', `${path}: cannot read (${code})`, { cause: err, details: { file: path } });
  }
  return err;
}
