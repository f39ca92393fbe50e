import { afterAll, beforeAll, expect, it } from 'vitest';
import { commandCalls, describeRedis, startRedis, type RedisServer } from '../../test/support/redis-server.js';
import { connectRedis, parseRedisUrl, type RedisConn } from './redis-conn.js';
import { HashReadBatch, MAX_FIELDS_PER_COMMAND } from './redis-read-batch.js';

const text = (v: Buffer | null) => (v === null ? null : v.toString('utf8'));

/** A batch whose last turn had several reads, so it holds every read of the next turn. */
async function busyBatch(conn: RedisConn): Promise<HashReadBatch> {
  const batch = new HashReadBatch(conn, 1_000);
  await Promise.all([batch.read('h1', 'f0'), batch.read('h1', 'f1')]);
  return batch;
}

/** `conn`, counting the commands sent through it as they are sent. */
function counting(conn: RedisConn): RedisConn & { sent: number } {
  const spy = {
    sent: 0,
    isReady: true,
    send: (key: string | undefined, args: readonly (string | Buffer)[], options?: Parameters<RedisConn['send']>[2]) => {
      spy.sent++;
      return conn.send(key, args, options);
    },
    masters: () => conn.masters(),
    close: () => Promise.resolve(),
  };
  return spy;
}

describeRedis('HashReadBatch against a real redis-server', () => {
  let server: RedisServer;
  let conn: RedisConn;
  beforeAll(async () => {
    server = await startRedis();
    conn = await connectRedis(parseRedisUrl(server.url));
    const fields: string[] = [];
    for (let j = 0; j < 600; j++) fields.push(`f${j}`, `value of ${j}`);
    await conn.send('h1', ['HSET', 'h1', ...fields]);
    await conn.send('h2', ['HSET', 'h2', 'a', 'in h2']);
    await conn.send('str', ['SET', 'str', 'not a hash']);
  });
  afterAll(async () => {
    await conn.close();
    await server.destroy();
  });

  it('answers the reads of one busy turn on one hash with one HMGET, each with its own value', async () => {
    const batch = await busyBatch(conn);
    const before = await commandCalls(server.port, 'hmget');
    const got = await Promise.all([batch.read('h1', 'f3'), batch.read('h1', 'f0'), batch.read('h1', 'missing'), batch.read('h1', 'f3')]);
    expect(got.map(text)).toEqual(['value of 3', 'value of 0', null, 'value of 3']);
    expect((await commandCalls(server.port, 'hmget')) - before).toBe(1);
  });

  it('sends one command per hash, and a missing hash reads as missing fields', async () => {
    const batch = await busyBatch(conn);
    const before = await commandCalls(server.port, 'hmget');
    const got = await Promise.all([batch.read('h2', 'a'), batch.read('h1', 'f1'), batch.read('nothing-here', 'a'), batch.read('h2', 'b')]);
    expect(got.map(text)).toEqual(['in h2', 'value of 1', null, null]);
    expect((await commandCalls(server.port, 'hmget')) - before).toBe(3);
  });

  it('splits a turn with more reads of one hash than one command takes', async () => {
    const batch = await busyBatch(conn);
    const before = await commandCalls(server.port, 'hmget');
    const n = MAX_FIELDS_PER_COMMAND * 2 + 5;
    const got = await Promise.all(Array.from({ length: n }, (_, j) => batch.read('h1', `f${j}`)));
    expect(got.map(text)).toEqual(Array.from({ length: n }, (_, j) => `value of ${j}`));
    expect((await commandCalls(server.port, 'hmget')) - before).toBe(3);
  });

  it('reads in later turns go out as commands of their own', async () => {
    const batch = await busyBatch(conn);
    const before = await commandCalls(server.port, 'hmget');
    expect(text(await batch.read('h1', 'f5'))).toBe('value of 5');
    expect(text(await batch.read('h1', 'f6'))).toBe('value of 6');
    expect((await commandCalls(server.port, 'hmget')) - before).toBe(2);
  });

  it('sends at once while quiet, and holds the reads of a turn once turns are busy', async () => {
    const spy = counting(conn);
    const batch = new HashReadBatch(spy, 1_000);
    // Quiet (no turn yet, then turns of one read): each read leaves before read() returns.
    const first = batch.read('h1', 'f7');
    expect(spy.sent).toBe(1);
    expect(text(await first)).toBe('value of 7');
    const second = batch.read('h1', 'f8');
    expect(spy.sent).toBe(2);
    // Later reads of the same turn are held for the end of the turn, and share a command.
    const rest = [batch.read('h1', 'f9'), batch.read('h1', 'f10'), batch.read('h2', 'a')];
    expect(spy.sent).toBe(2);
    expect((await Promise.all([second, ...rest])).map(text)).toEqual(['value of 8', 'value of 9', 'value of 10', 'in h2']);
    expect(spy.sent).toBe(4);
    // That turn had four reads: the next turn's first read is held too.
    const held = batch.read('h1', 'f11');
    expect(spy.sent).toBe(4);
    expect(text(await held)).toBe('value of 11');
    expect(spy.sent).toBe(5);
    // And after that turn of one read, the next read leaves at once again.
    const quietAgain = batch.read('h1', 'f12');
    expect(spy.sent).toBe(6);
    expect(text(await quietAgain)).toBe('value of 12');
  });

  it('a failed command rejects its own reads with RTREC_ERR_STORE_UNAVAILABLE and no others', async () => {
    const batch = await busyBatch(conn);
    const [bad1, good, bad2] = await Promise.allSettled([batch.read('str', 'a'), batch.read('h2', 'a'), batch.read('str', 'b')]);
    expect(bad1).toMatchObject({ status: 'rejected', reason: { code: 'RTREC_ERR_STORE_UNAVAILABLE' } });
    expect(bad2).toMatchObject({ status: 'rejected', reason: { code: 'RTREC_ERR_STORE_UNAVAILABLE' } });
    expect(good.status === 'fulfilled' && text(good.value)).toBe('in h2');
  });

  it('sees a write acknowledged before the read was asked for, and one sent in the same turn before it', async () => {
    const batch = new HashReadBatch(conn, 1_000);
    await conn.send('h3', ['HSET', 'h3', 'x', 'first']);
    expect(text(await batch.read('h3', 'x'))).toBe('first');
    const write = conn.send('h3', ['HSET', 'h3', 'x', 'second']);
    const read = batch.read('h3', 'x');
    await write;
    expect(text(await read)).toBe('second');
  });
});
