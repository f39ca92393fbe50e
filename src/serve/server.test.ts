import { once } from 'node:events';
import { connect } from 'node:net';
import { join } from 'node:path';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../test/support/redis-server.js';
import { publishModel } from '../jobs/publish.js';
import { openStore } from '../store/open-store.js';
import { buildApp } from './app.js';
import { ONLINE_SEMI_SPACE_MB, SERVE_NODE_FLAGS, SERVE_SEMI_SPACE_MB, serveNodeFlags, startServer, workerExecArgv } from './server.js';
import { fixtureModel } from './test-support/fixture-model.js';
import { tempLmdbUrl, testConfig } from './test-support/serve-fixture.js';
import { spawnNode, transpileForChild, waitForLine } from './test-support/ts-child.js';

const model = fixtureModel({ users: 20, items: 15 });
let tmp: { url: string; remove: () => Promise<void> };

beforeAll(async () => {
  tmp = await tempLmdbUrl();
  const store = await openStore(tmp.url);
  await publishModel(model, store, { progress: false });
  await store.close();
});
afterAll(async () => {
  await tmp.remove();
});

describe('startServer', () => {
  it('listens over real HTTP and shuts down cleanly', async () => {
    const server = await startServer(testConfig({ store: tmp.url, port: 0 }), { logger: false });
    const res = await fetch(`${server.address}/v1/users/u1/recommendations?k=2`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { items: unknown[] }).items).toHaveLength(2);
    await server.shutdown();
    await expect(fetch(`${server.address}/healthz`)).rejects.toThrow();
  });

  it('drains in-flight requests on shutdown and refuses new connections', async () => {
    const real = await openStore(tmp.url);
    // The real store, with user reads slowed down so a request is surely in flight at shutdown.
    const slow = new Proxy(real, {
      get(target, prop) {
        if (prop === 'getUserRecs') {
          return async (v: number, id: string) => {
            await new Promise((r) => setTimeout(r, 300));
            return target.getUserRecs(v, id);
          };
        }
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const app = await buildApp({ store: slow, config: testConfig(), logger: false });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as { port: number };
    const inFlight = fetch(`http://127.0.0.1:${port}/v1/users/u2/recommendations?k=3`);
    await new Promise((r) => setTimeout(r, 100));
    const closing = app.close();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { source: string }).source).toBe('personalized');
    await closing;
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    await real.close();
  });

  it('answers a request that arrives after shutdown began with 503 and a code, and closes its connection', async () => {
    const store = await openStore(tmp.url);
    const app = await buildApp({ store, config: testConfig(), logger: false });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as { port: number };
    // Half a request's headers: the connection is busy, so closing idle connections leaves it open.
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write('GET /v1/users/u2/recommendations?k=3 HTTP/1.1\r\nhost: 127.0.0.1\r\n');
    await new Promise((r) => setTimeout(r, 50));
    const closing = app.close();
    let raw = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (raw += d));
    const ended = once(socket, 'end');
    socket.write('\r\n');
    await ended;
    await closing;
    const [head = '', body = ''] = raw.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 503 /);
    expect(head.toLowerCase()).toContain('connection: close');
    expect(head.toLowerCase()).toMatch(/x-request-id: \S+/);
    expect(JSON.parse(body)).toEqual({ code: 'RTREC_ERR_HTTP_SHUTTING_DOWN', message: expect.stringContaining('shutting down') as unknown });
    await store.close();
  });
});

describe('rtrec serve process', () => {
  // Children still running after a failed assertion are killed, so no server outlives the tests.
  const children: ChildProcess[] = [];
  const spawnServe = (js: string, argv: string[], env: NodeJS.ProcessEnv) => {
    const child = spawnNode(js, argv, env);
    children.push(child);
    return child;
  };
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });

  it('serves with 2 workers (node:cluster), configured from RTREC_* variables, and exits 0 on SIGTERM', async () => {
    const js = await transpileForChild(join(import.meta.dirname, 'test-support/serve-child.ts'));
    const port = await freePort();
    const child = spawnServe(js, ['--refresh-ms', '100'], { RTREC_STORE: tmp.url, RTREC_PORT: String(port), RTREC_WORKERS: '2', RTREC_LOG_LEVEL: 'info' });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    await waitForLine(child, /rtrec primary started/);
    const started = Date.now();
    while ((out.match(/"msg":"rtrec serving"/g) ?? []).length < 2) {
      expect(Date.now() - started).toBeLessThan(15_000);
      await new Promise((r) => setTimeout(r, 50));
    }
    const pids = new Set([...out.matchAll(/"pid":(\d+),"msg":"rtrec serving"/g)].map((m) => m[1]));
    expect(pids.size).toBe(2);
    const answers = await Promise.all(Array.from({ length: 20 }, () => fetch(`http://127.0.0.1:${port}/v1/users/u3/recommendations?k=4`)));
    expect(answers.map((r) => r.status)).toEqual(Array(20).fill(200));
    // Every scrape, whichever worker takes it, counts the requests of both workers.
    for (let j = 0; j < 4; j++) {
      const scrape = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(scrape.headers.get('x-rtrec-metrics-scope')).toBeNull();
      const text = await scrape.text();
      expect(text).toMatch(/^rtrec_http_requests_total\{route="\/v1\/users\/:userId\/recommendations",method="GET",status="200"\} 20$/m);
      expect(text).toMatch(/^rtrec_store_up 1$/m);
    }
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    expect(out).toContain('shutting down');
  });

  it('in one process, drains and exits 0 on SIGTERM', async () => {
    const js = await transpileForChild(join(import.meta.dirname, 'test-support/serve-child.ts'));
    const port = await freePort();
    const child = spawnServe(js, ['--port', String(port)], { RTREC_STORE: tmp.url, RTREC_LOG_LEVEL: 'info' });
    await waitForLine(child, /rtrec serving/);
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('in one process, a second signal while draining does not cut the drain short', async () => {
    const js = await transpileForChild(join(import.meta.dirname, 'test-support/serve-child.ts'));
    const port = await freePort();
    const child = spawnServe(js, ['--port', String(port)], { RTREC_STORE: tmp.url, RTREC_LOG_LEVEL: 'info' });
    await waitForLine(child, /rtrec serving/);
    // A request in flight: its body is only half sent, so the drain waits for it.
    const body = JSON.stringify({ userIds: ['u1'] });
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    let answer = '';
    socket.on('data', (d: Buffer) => {
      answer += d.toString();
    });
    socket.write(`POST /v1/recommendations:batch HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body.slice(0, 5)}`);
    await new Promise((r) => setTimeout(r, 100));
    const exited = new Promise<[number | null, string | null]>((r) => child.once('exit', (code, signal) => r([code, signal])));
    child.kill('SIGTERM');
    await waitForLine(child, /shutting down/);
    // As Ctrl-C to the process group, or systemd signalling every process, would.
    child.kill('SIGINT');
    await waitForLine(child, /already shutting down/);
    socket.end(body.slice(5));
    expect(await exited).toEqual([0, null]);
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
  });

  it('refuses a bad configuration with a clear error', async () => {
    const js = await transpileForChild(join(import.meta.dirname, 'test-support/serve-child.ts'));
    const child = spawnServe(js, [], { RTREC_STORE: tmp.url, RTREC_PORT: 'eighty' });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    expect(code).not.toBe(0);
    expect(err).toContain('RTREC_PORT must be a number');
  });
});

describe('workerExecArgv', () => {
  it('gives workers the serving nursery size and single-threaded GC unless either is already set', () => {
    const gc = '--single-threaded-gc';
    expect(workerExecArgv(['--enable-source-maps'], '')).toEqual(['--enable-source-maps', `--max-semi-space-size=${SERVE_SEMI_SPACE_MB}`, gc]);
    expect(workerExecArgv(['--max-semi-space-size=8'], '')).toEqual(['--max-semi-space-size=8', gc]);
    expect(workerExecArgv([], '--max-old-space-size=512 --max-semi-space-size=32')).toEqual([gc]);
    expect(workerExecArgv([], '--max-semi-space-sizes-are-not-a-flag')).toEqual([`--max-semi-space-size=${SERVE_SEMI_SPACE_MB}`, gc]);
    expect(workerExecArgv(['--no-single-threaded-gc'], '')).toEqual(['--no-single-threaded-gc', `--max-semi-space-size=${SERVE_SEMI_SPACE_MB}`]);
    expect(workerExecArgv([...SERVE_NODE_FLAGS], '')).toEqual([...SERVE_NODE_FLAGS]);
    // With online updates the background GC threads stay (see serveNodeFlags), unless asked otherwise.
    expect(workerExecArgv([], '', true)).toEqual(serveNodeFlags(true));
    expect(serveNodeFlags(true)).not.toContain(gc);
    expect(workerExecArgv([gc], '', true)).toEqual([gc, `--max-semi-space-size=${ONLINE_SEMI_SPACE_MB}`]);
    // And a smaller nursery (see ONLINE_SEMI_SPACE_MB), unless one is given.
    expect(serveNodeFlags(true)).toEqual([`--max-semi-space-size=${ONLINE_SEMI_SPACE_MB}`]);
    expect(ONLINE_SEMI_SPACE_MB).toBeLessThan(SERVE_SEMI_SPACE_MB);
    expect(workerExecArgv(['--max-semi-space-size=48'], '', true)).toEqual(['--max-semi-space-size=48']);
  });

  it('gives flags node accepts on its command line', () => {
    const res = spawnSync(process.execPath, [...workerExecArgv([], ''), '-e', 'process.stdout.write("ok")'], { encoding: 'utf8' });
    expect(res.stderr).toBe('');
    expect(res.stdout).toBe('ok');
  });
});
