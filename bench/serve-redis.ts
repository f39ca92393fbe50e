/**
 * @module A throw-away redis-server for benchmarks: free port, temporary folder, no persistence.
 * Returns null when redis-server is not installed (the Redis rows are then skipped and say so).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface BenchRedis {
  readonly url: string;
  /** The redis-server process (for its CPU time, process-cpu.ts). */
  readonly pid: number;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    s.once('error', () => resolve(false));
    s.on('data', (d) => {
      s.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
    s.connect(port, '127.0.0.1', () => s.write('PING\r\n'));
  });
}

/**
 * A throw-away redis-server on a free port, or null when redis-server is not installed.
 * `aof: true` turns on the append-only file with fsync every second (the durability bound the
 * event docs promise); otherwise nothing is persisted.
 */
export async function startBenchRedis(options: { aof?: boolean } = {}): Promise<BenchRedis | null> {
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status !== 0) return null;
  const dir = await mkdtemp(join(tmpdir(), 'rtrec-bench-redis-'));
  const port = await freePort();
  const persistence = options.aof ? ['--appendonly', 'yes', '--appendfsync', 'everysec'] : ['--appendonly', 'no'];
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence, '--dir', dir], { stdio: 'ignore' });
  for (let t = 0; !(await ping(port)); t++) {
    if (t > 200) throw new Error('redis-server did not start');
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    url: `redis://127.0.0.1:${port}/0`,
    pid: child.pid!,
    async stop() {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
