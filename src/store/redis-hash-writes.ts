/**
 * @module Writing a batch of hash fields to Redis (a version's data): fields are grouped per hash and
 * split into HSETs of at most `maxCommandBytes`; at most a window of bytes is in flight (the rest waits,
 * which also holds back the producer of the batches); each HSET has a reply deadline and is sent again
 * when it passes. Sending an HSET twice is harmless: a version's data keys are written only by its
 * writer, with the same values each time, and on one connection a resent command runs after the first.
 */
import { RecError } from '../core/errors.js';
import type { ByteWindow } from './byte-window.js';
import { isReplyTimeout, type RedisConn } from './redis-conn.js';

export interface HashField {
  /** The Redis key of the hash. */
  readonly hash: string;
  readonly field: string;
  readonly value: Buffer;
}

export interface HsetCommand {
  readonly hash: string;
  /** `['HSET', hash, field, value, ...]` */
  readonly args: readonly (string | Buffer)[];
  readonly fields: number;
  /** Field names (UTF-8) plus values, in bytes: what the window and the size limit count. */
  readonly bytes: number;
}

export interface HashWriteOptions {
  /** Bounds the bytes in flight; shared by all writers of one connection. */
  readonly window: ByteWindow;
  /** Reply deadline of one HSET, in ms. */
  readonly timeoutMs: number;
  /** Sends of one HSET before giving up (>= 1). */
  readonly attempts: number;
  /** The store, for messages. */
  readonly description: string;
}

/**
 * Groups `fields` by hash (hashes in order of first appearance, fields in input order) into HSETs of
 * at most `maxCommandBytes` each; a single field larger than that gets an HSET of its own.
 */
export function planHsets(fields: readonly HashField[], maxCommandBytes: number): HsetCommand[] {
  const byHash = new Map<string, HashField[]>();
  for (const f of fields) {
    const list = byHash.get(f.hash);
    if (list) list.push(f);
    else byHash.set(f.hash, [f]);
  }
  const out: HsetCommand[] = [];
  for (const [hash, list] of byHash) {
    let args: (string | Buffer)[] = [];
    let bytes = 0;
    const flush = () => {
      if (args.length > 0) out.push({ hash, args: ['HSET', hash, ...args], fields: args.length / 2, bytes });
      args = [];
      bytes = 0;
    };
    for (const f of list) {
      const size = Buffer.byteLength(f.field, 'utf8') + f.value.length;
      if (args.length > 0 && bytes + size > maxCommandBytes) flush();
      args.push(f.field, f.value);
      bytes += size;
    }
    flush();
  }
  return out;
}

/**
 * Sends `commands` pipelined through `options.window` and resolves when all were acknowledged. After
 * the first failure no further command is sent; the rest in flight are awaited, then it rethrows.
 * @throws RTREC_ERR_STORE_UNAVAILABLE when an HSET got no reply `attempts` times, or Redis is gone
 */
export async function writeHsets(conn: RedisConn, commands: readonly HsetCommand[], options: HashWriteOptions): Promise<void> {
  let failure: { readonly err: unknown } | undefined;
  const running: Promise<void>[] = [];
  for (const cmd of commands) {
    await options.window.acquire(cmd.bytes);
    if (failure) {
      options.window.release(cmd.bytes);
      break;
    }
    const sent = sendHset(conn, cmd, options).then(
      () => undefined,
      (err: unknown) => {
        failure ??= { err };
      },
    );
    running.push(sent.finally(() => options.window.release(cmd.bytes)));
  }
  await Promise.all(running);
  if (failure) throw failure.err;
}

async function sendHset(conn: RedisConn, cmd: HsetCommand, options: HashWriteOptions): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await conn.send(cmd.hash, cmd.args, { timeoutMs: options.timeoutMs });
      return;
    } catch (err) {
      if (!isReplyTimeout(err)) throw err;
      if (attempt >= options.attempts) {
        throw new RecError(
          'RTREC_ERR_STORE_UNAVAILABLE',
          `${options.description}: HSET of ${cmd.fields} entries (${cmd.bytes} bytes) to ${cmd.hash} got no reply within ${options.timeoutMs} ms, ${attempt} times; is Redis overloaded or stuck?`,
          { cause: err },
        );
      }
    }
  }
}
