import { describe, expect, it } from 'vitest';
import { RecError } from '../core/errors.js';
import { ByteWindow } from './byte-window.js';
import type { RedisConn, SendOptions } from './redis-conn.js';
import { planHsets, writeHsets, type HashField, type HsetCommand } from './redis-hash-writes.js';
import { ReplyTimeoutError } from './reply-deadline.js';

const field = (hash: string, name: string, size: number): HashField => ({ hash, field: name, value: Buffer.alloc(size, name.length) });

describe('planHsets', () => {
  it('groups fields per hash in order of first appearance, one HSET per hash when small', () => {
    const cmds = planHsets([field('h1', 'a', 3), field('h2', 'b', 3), field('h1', 'c', 3)], 1_000);
    expect(cmds.map((c) => [c.hash, c.fields, c.bytes])).toEqual([
      ['h1', 2, 8], // (1 + 3) + (1 + 3)
      ['h2', 1, 4],
    ]);
    expect(cmds[0].args.slice(0, 3)).toEqual(['HSET', 'h1', 'a']);
    expect(cmds[0].args[4]).toBe('c');
  });

  it('splits a hash into HSETs of at most the byte limit, a too-big field alone', () => {
    // Sizes (name + value): 10, 10, 10, 25, 10; limit 20 → [10,10] [10] [25] [10]
    const fields = [field('h', 'f0', 8), field('h', 'f1', 8), field('h', 'f2', 8), field('h', 'f3', 23), field('h', 'f4', 8)];
    const cmds = planHsets(fields, 20);
    expect(cmds.map((c) => c.bytes)).toEqual([20, 10, 25, 10]);
    expect(cmds.map((c) => c.args.filter((_, j) => j >= 2 && j % 2 === 0))).toEqual([['f0', 'f1'], ['f2'], ['f3'], ['f4']]);
    expect(cmds.reduce((n, c) => n + c.fields, 0)).toBe(fields.length);
  });

  it('counts field names in UTF-8 bytes', () => {
    expect(planHsets([field('h', 'é', 0)], 100)[0].bytes).toBe(2);
  });
});

/** A RedisConn whose replies the test controls: each send waits for `reply(n)` to decide. */
function fakeConn(reply: (call: number, args: readonly (string | Buffer)[]) => Promise<unknown>) {
  const calls: { args: readonly (string | Buffer)[]; options?: SendOptions }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const conn: RedisConn = {
    isReady: true,
    close: () => Promise.resolve(),
    masters: () => Promise.reject(new Error('not used by hash writes')),
    async send(_key, args, options) {
      calls.push({ args, options });
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        return await reply(calls.length, args);
      } finally {
        inFlight--;
      }
    },
  };
  return { conn, calls, maxInFlight: () => maxInFlight };
}

const timeout = (cmd: string) => new RecError('RTREC_ERR_STORE_UNAVAILABLE', 'no reply', { cause: new ReplyTimeoutError(cmd, 50) });
const tick = () => new Promise((r) => setImmediate(r));
const options = (window: ByteWindow, attempts = 3) => ({ window, timeoutMs: 50, attempts, description: 'redis://test' });
const cmds = (n: number, bytes: number): HsetCommand[] => planHsets(Array.from({ length: n }, (_, j) => field(`h${j}`, 'f', bytes - 1)), 1_000_000);

describe('writeHsets', () => {
  it('keeps at most the window of bytes in flight and sends every command once', async () => {
    const fake = fakeConn(async () => {
      await tick();
      return 1;
    });
    // 10 commands of 100 bytes through a 250-byte window: at most 2 at once.
    await writeHsets(fake.conn, cmds(10, 100), options(new ByteWindow(250)));
    expect(fake.calls.length).toBe(10);
    expect(fake.maxInFlight()).toBe(2);
    expect(fake.calls.every((c) => c.options?.timeoutMs === 50)).toBe(true);
  });

  it('sends an HSET again when its reply timed out, and succeeds', async () => {
    const fake = fakeConn((call) => (call === 1 ? Promise.reject(timeout('HSET')) : Promise.resolve(1)));
    const window = new ByteWindow(1_000);
    await writeHsets(fake.conn, cmds(1, 100), options(window));
    expect(fake.calls.length).toBe(2);
    expect(fake.calls[1].args).toEqual(fake.calls[0].args);
    expect(window.inFlightBytes).toBe(0);
  });

  it('gives up after the attempts with RTREC_ERR_STORE_UNAVAILABLE naming the key, size and deadline', async () => {
    const fake = fakeConn(() => Promise.reject(timeout('HSET')));
    const window = new ByteWindow(1_000);
    const err = await writeHsets(fake.conn, cmds(1, 100), options(window, 3)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RecError);
    expect((err as RecError).code).toBe('RTREC_ERR_STORE_UNAVAILABLE');
    expect((err as RecError).message).toMatch(/HSET of 1 entries \(100 bytes\) to h0 got no reply within 50 ms, 3 times/);
    expect(fake.calls.length).toBe(3);
    expect(window.inFlightBytes).toBe(0);
  });

  it('does not resend after an error that is not a timeout, and sends nothing more after a failure', async () => {
    const refused = new RecError('RTREC_ERR_STORE_UNAVAILABLE', 'connection closed');
    const fake = fakeConn(async (call) => {
      await tick();
      if (call === 1) throw refused;
      return 1;
    });
    const window = new ByteWindow(100);
    // One command at a time: the first fails, so the other four are never sent.
    await expect(writeHsets(fake.conn, cmds(5, 100), options(window))).rejects.toBe(refused);
    expect(fake.calls.length).toBe(1);
    expect(window.inFlightBytes).toBe(0);
  });
});
