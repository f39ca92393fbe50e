/**
 * @module Real Redis servers for tests: a standalone `redis-server` and a 3-master Redis Cluster,
 * each started on free ports in a temporary folder without persistence (unless a test stops a server
 * with SHUTDOWN SAVE to restart it with its data). Tests that need Redis use `describeRedis`, which
 * skips loudly when `redis-server` is not installed — and fails instead when CI is set.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'vitest';

const SERVER_BIN = process.env.RTREC_REDIS_SERVER ?? 'redis-server';
const CLI_BIN = process.env.RTREC_REDIS_CLI ?? 'redis-cli';

let availability: boolean | undefined;

/** True when redis-server can be run. */
export function redisAvailable(): boolean {
  availability ??= spawnSync(SERVER_BIN, ['--version'], { stdio: 'ignore' }).status === 0;
  return availability;
}

/**
 * `describe` for suites that need a real redis-server: skipped with a loud warning when the binary is
 * missing outside CI; with CI set, a missing binary fails the run instead.
 */
export function describeRedis(name: string, fn: () => void): void {
  if (redisAvailable()) {
    describe(name, fn);
    return;
  }
  if (process.env.CI) throw new Error(`${SERVER_BIN} is not installed but CI is set: Redis tests must run in CI (.ci/run installs redis-server)`);
  process.stderr.write(`\n!!! SKIPPING "${name}": ${SERVER_BIN} is not installed (apt-get install redis-server). These tests run in CI. !!!\n\n`);
  describe.skip(name, fn);
}

/** A port nobody listens on right now (and, with `busToo`, also port + 10000 for the cluster bus). */
export async function freePort(busToo = false): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await listenOnce(0);
    if (!busToo) return port;
    if (port + 10_000 < 65_536 && (await portFree(port + 10_000)) && (await portFree(port))) return port;
  }
  throw new Error('no free port found');
}

function listenOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', () => {
      const addr = srv.address();
      const p = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(p));
    });
  });
}

async function portFree(port: number): Promise<boolean> {
  try {
    await listenOnce(port);
    return true;
  } catch {
    return false;
  }
}

/** Sends one inline command and resolves with the raw reply text (or rejects when nothing answers). */
export function rawCommand(port: number, command: string, timeoutMs = 1_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = new Socket();
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no reply to ${command} on ${port}`));
    }, timeoutMs);
    sock.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    sock.on('data', (d) => {
      buf += d.toString('utf8');
      if (buf.endsWith('\r\n')) {
        clearTimeout(timer);
        sock.destroy();
        resolve(buf);
      }
    });
    sock.connect(port, '127.0.0.1', () => sock.write(`${command}\r\n`));
  });
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not up yet
    }
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** How many times the server at `port` ran `command` (lower case) since it started (INFO commandstats). */
export async function commandCalls(port: number, command: string): Promise<number> {
  const stats = await rawCommand(port, 'INFO commandstats');
  return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
}

export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:<port>/0` */
  readonly url: string;
  /** Stops the server; with `save`, writes its data first so `start()` brings it back. */
  stop(options?: { save?: boolean }): Promise<void>;
  /** Starts it again on the same port and folder (after stop). */
  start(): Promise<void>;
  /** Stops it and removes its folder. */
  destroy(): Promise<void>;
}

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

function spawnServer(args: string[], dir: string): ChildProcess {
  const child = spawn(SERVER_BIN, args, { cwd: dir, stdio: 'ignore' });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Starts a standalone redis-server on a free port in a fresh temporary folder. */
export async function startRedis(): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'rtrec-redis-'));
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--dbfilename', 'dump.rdb', '--protected-mode', 'no'];
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawnServer(args, dir);
    await waitFor(`redis-server on ${port}`, async () => (await rawCommand(port, 'PING')).startsWith('+PONG'));
  };
  const stop = async (options: { save?: boolean } = {}) => {
    const c = child;
    if (!c) return;
    child = undefined;
    if (options.save) {
      await rawCommand(port, 'SHUTDOWN SAVE').catch(() => undefined);
    } else {
      c.kill('SIGKILL');
    }
    await exited(c);
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}/0`,
    start,
    stop,
    async destroy() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface RedisCluster {
  readonly ports: readonly number[];
  /** `redis+cluster://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3` */
  readonly url: string;
  destroy(): Promise<void>;
}

/** Starts three cluster-enabled redis-servers and joins them as a 3-master cluster (no replicas). */
export async function startRedisCluster(): Promise<RedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'rtrec-redis-cluster-'));
  const ports: number[] = [];
  while (ports.length < 3) {
    const p = await freePort(true);
    if (!ports.includes(p)) ports.push(p);
  }
  const procs = ports.map((port) =>
    spawnServer(
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--protected-mode', 'no',
        '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '2000'],
      dir,
    ),
  );
  const destroy = async () => {
    for (const p of procs) p.kill('SIGKILL');
    await Promise.all(procs.map(exited));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) await waitFor(`cluster node ${port}`, async () => (await rawCommand(port, 'PING')).startsWith('+PONG'));
    const created = spawnSync(CLI_BIN, ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stderr || created.stdout}`);
    for (const port of ports) {
      await waitFor(`cluster state ok on ${port}`, async () => (await rawCommand(port, 'CLUSTER INFO')).includes('cluster_state:ok'), 20_000);
    }
  } catch (err) {
    await destroy();
    throw err;
  }
  return { ports, url: `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`, destroy };
}
