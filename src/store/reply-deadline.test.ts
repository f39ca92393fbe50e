import { Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeRedis, rawCommand, startRedis, type RedisServer } from '../../test/support/redis-server.js';
import { isRecError } from '../core/errors.js';
import { connectRedis, isReplyTimeout, parseRedisUrl } from './redis-conn.js';
import { ReplyTimeoutError, withReplyDeadline } from './reply-deadline.js';

/** Keeps this thread busy, like the publish job scoring lists between two store writes. */
function blockEventLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy
  }
}

describeRedis('reply deadlines against a real redis-server', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server.destroy();
  });

  it('does not time out a reply that arrived while this process was blocked past the deadline', async () => {
    const sock = new Socket();
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.connect(server.port, '127.0.0.1', resolve);
    });
    try {
      const reply = new Promise<string>((resolve) => sock.once('data', (d) => resolve(d.toString('utf8'))));
      sock.write('PING\r\n');
      const answered = withReplyDeadline(reply, 50, 'PING');
      // Redis answers within the block; the 50 ms timer is due long before this thread reads the socket.
      blockEventLoop(400);
      await expect(answered).resolves.toBe('+PONG\r\n');
    } finally {
      sock.destroy();
    }
  });

  it('fails a command whose reply does not come, even after it was sent (server paused)', async () => {
    const conn = await connectRedis(parseRedisUrl(server.url));
    try {
      await rawCommand(server.port, 'CLIENT PAUSE 1500 ALL');
      const started = Date.now();
      const err = await conn.send('k', ['HGET', 'k', 'f'], { timeoutMs: 200 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      const waited = Date.now() - started;
      expect(isRecError(err) && err.code).toBe('RTREC_ERR_STORE_UNAVAILABLE');
      expect(isReplyTimeout(err)).toBe(true);
      expect((err as Error).message).toMatch(/HGET got no reply within 200 ms/);
      expect((err as Error).cause).toBeInstanceOf(ReplyTimeoutError);
      expect(waited).toBeLessThan(1_200);
    } finally {
      await new Promise((r) => setTimeout(r, 1_500));
      await conn.close();
    }
  });
});
