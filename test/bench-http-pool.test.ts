import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpPool } from '../bench/http-pool.js';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  if (server?.listening) await new Promise((r) => server!.close(r));
  server = undefined;
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<{ port: number; sockets: Set<unknown> }> {
  const sockets = new Set<unknown>();
  server = createServer((req, res) => {
    sockets.add(req.socket);
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => handler(req, res, body));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as AddressInfo).port, sockets };
}

describe('HttpPool (the load generators’ client)', () => {
  it('sends method, path, headers and body, and reads status and body back, over kept-alive connections', async () => {
    const { port, sockets } = await serve((req, res, body) => {
      const text = JSON.stringify({ method: req.method, url: req.url, key: req.headers['x-api-key'], type: req.headers['content-type'], body });
      res.writeHead(req.method === 'POST' ? 202 : 200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    });
    const pool = new HttpPool(port, 1);
    const posted = await pool.send({ method: 'POST', path: '/v1/events', body: '{"é":1}', headers: { 'content-type': 'application/json', 'x-api-key': 'secret-key' } });
    expect(posted.status).toBe(202);
    expect(JSON.parse(posted.body)).toEqual({ method: 'POST', url: '/v1/events', key: 'secret-key', type: 'application/json', body: '{"é":1}' });
    const read = await pool.send({ method: 'GET', path: '/v1/users/u1/recommendations?k=10' });
    expect(read.status).toBe(200);
    expect(JSON.parse(read.body)).toMatchObject({ method: 'GET', url: '/v1/users/u1/recommendations?k=10', body: '' });
    expect(sockets.size).toBe(1);
    pool.close();
  });

  it('queues calls beyond its connections and answers each with its own body', async () => {
    const { port, sockets } = await serve((req, res) => {
      // Answers arrive out of order, and some in several writes.
      setTimeout(() => {
        const text = `answer for ${req.url}`;
        res.writeHead(200, { 'content-length': Buffer.byteLength(text) });
        res.write(text.slice(0, 4));
        setTimeout(() => res.end(text.slice(4)), 2);
      }, (Number(req.url!.split('/')[2]) * 7) % 10);
    });
    const pool = new HttpPool(port, 3);
    const answers = await Promise.all(Array.from({ length: 30 }, (_, j) => pool.send({ method: 'GET', path: `/x/${j}` })));
    expect(answers.map((a) => a.body)).toEqual(Array.from({ length: 30 }, (_, j) => `answer for /x/${j}`));
    expect(sockets.size).toBe(3);
    pool.close();
  });

  it('says it is saturated while every connection is busy and none can be opened', async () => {
    const release: (() => void)[] = [];
    const { port } = await serve((_req, res) => {
      release.push(() => {
        res.writeHead(200, { 'content-length': 2 });
        res.end('ok');
      });
    });
    const pool = new HttpPool(port, 2);
    expect(pool.saturated).toBe(false);
    const first = pool.send({ method: 'GET', path: '/a' });
    expect(pool.saturated).toBe(false);
    const second = pool.send({ method: 'GET', path: '/b' });
    expect(pool.saturated).toBe(true);
    while (release.length < 2) await new Promise((r) => setTimeout(r, 5));
    for (const r of release.splice(0)) r();
    await Promise.all([first, second]);
    // Both connections are idle again.
    expect(pool.saturated).toBe(false);
    pool.close();
  });

  it('opens a new connection after an answer with connection: close, and fails what it cannot read with status 0', async () => {
    const { port, sockets } = await serve((req, res) => {
      if (req.url === '/chunked') {
        res.writeHead(200, { 'transfer-encoding': 'chunked' });
        res.end('no length');
        return;
      }
      res.writeHead(503, { 'content-length': 2, connection: 'close' });
      res.end('no');
    });
    const pool = new HttpPool(port, 1);
    expect(await pool.send({ method: 'GET', path: '/a' })).toEqual({ status: 503, body: 'no' });
    expect(await pool.send({ method: 'GET', path: '/b' })).toEqual({ status: 503, body: 'no' });
    expect(sockets.size).toBe(2);
    expect((await pool.send({ method: 'GET', path: '/chunked' })).status).toBe(0);
    pool.close();
  });

  it('fails an exchange that takes longer than its timeout with status 0', async () => {
    const { port } = await serve(() => {
      // never answers
    });
    const pool = new HttpPool(port, 1, 100);
    const started = Date.now();
    expect(await pool.send({ method: 'GET', path: '/slow' })).toEqual({ status: 0, body: '' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    pool.close();
  });
});
