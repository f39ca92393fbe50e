/**
 * @module Drives `deploy/local/topology.mjs` from TypeScript (the end-to-end test and `bench:scale`):
 * runs its `up`, `publish` and `down` commands as separate processes, exactly as a person would, and
 * offers a small closed-loop HTTP load whose in-flight count can be read at any moment (to bound the
 * failures an instance kill may cause).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding `deploy/local/topology.mjs`, found upwards from this file (source or compiled copy). */
function findRepo(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'deploy', 'local', 'topology.mjs')) && existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('deploy/local/topology.mjs not found above this module');
    dir = up;
  }
}

export const REPO_DIR = findRepo();
export const TOPOLOGY_SCRIPT = join(REPO_DIR, 'deploy', 'local', 'topology.mjs');

export interface TopologyInstance {
  readonly port: number;
  readonly pid: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
}

/** What `topology.mjs up --json` prints (also `<stateDir>/state.json`). */
export interface TopologyState {
  readonly stateDir: string;
  /** Key for the admin and events routes of every instance. */
  readonly apiKey: string;
  readonly redis: { readonly ports: readonly number[]; readonly pids: readonly number[]; readonly url: string };
  readonly modelDir: string;
  /** Versions published so far, oldest first; the last is active. */
  readonly versions: readonly number[];
  readonly instances: readonly TopologyInstance[];
  readonly nginx: { readonly port: number; readonly pid: number; readonly url: string; readonly config: string };
}

/** Binaries the topology needs that are not installed (empty when it can run). */
export function missingTopologyTools(): string[] {
  const tools: [string, string][] = [
    [process.env.RTREC_REDIS_SERVER ?? 'redis-server', '--version'],
    [process.env.RTREC_REDIS_CLI ?? 'redis-cli', '--version'],
    [process.env.RTREC_NGINX ?? 'nginx', '-v'],
  ];
  return tools.filter(([bin, arg]) => spawnSync(bin, [arg], { stdio: 'ignore' }).status !== 0).map(([bin]) => bin);
}

function runScript(args: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TOPOLOGY_SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolve(out);
      else reject(new Error(`topology.mjs ${args[0]} failed (${signal ?? `exit ${code}`}): ${err.trim() || out.trim()}`));
    });
  });
}

/** `topology.mjs up`: resolves once nginx and every instance answer /readyz. */
export async function topologyUp(options: { readonly instances: number; readonly stateDir: string }): Promise<TopologyState> {
  const out = await runScript(['up', '--instances', String(options.instances), '--state-dir', options.stateDir, '--json'], 120_000);
  return JSON.parse(out) as TopologyState;
}

/** `topology.mjs publish`: a new version published and activated by a separate `rtrec publish` process. */
export async function topologyPublish(stateDir: string): Promise<number> {
  const out = await runScript(['publish', '--state-dir', stateDir, '--json'], 120_000);
  return (JSON.parse(out) as { version: number }).version;
}

/** `topology.mjs down`: stops every process it started and removes the state folder. */
export async function topologyDown(stateDir: string): Promise<void> {
  await runScript(['down', '--state-dir', stateDir], 30_000);
}

export interface LoadResult {
  /** Requests answered 200. */
  readonly ok: number;
  /** Requests answered otherwise or not at all. */
  readonly failed: number;
  /** The first few failures, for the test's message. */
  readonly failures: readonly string[];
  /** Latency of every completed request, in ms, in completion order. */
  readonly latenciesMs: readonly number[];
  /** Completion time of every request, ms since the load started (same order as latenciesMs). */
  readonly completedAtMs: readonly number[];
}

export interface RunningLoad {
  /** `performance.now()` when the load started; `LoadResult.completedAtMs` counts from it. */
  readonly startedAt: number;
  /** Requests sent and not yet answered, right now. */
  inFlight(): number;
  /** Lets the in-flight requests finish, sends no more, and resolves with the totals. */
  stop(): Promise<LoadResult>;
}

/**
 * Closed-loop load: `connections` loops, each sending GET `urlOf(n)` (n = 0, 1, … across all loops)
 * as soon as its previous request is answered. A request slower than `timeoutMs` counts as failed.
 */
export function startLoad(options: { readonly urlOf: (n: number) => string; readonly connections: number; readonly timeoutMs?: number }): RunningLoad {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const started = performance.now();
  let stopping = false;
  let inFlight = 0;
  let next = 0;
  let ok = 0;
  let failed = 0;
  const failures: string[] = [];
  const latenciesMs: number[] = [];
  const completedAtMs: number[] = [];
  const loop = async (): Promise<void> => {
    while (!stopping) {
      const url = options.urlOf(next++);
      const t0 = performance.now();
      inFlight++;
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
        await res.arrayBuffer();
        if (res.status === 200) ok++;
        else {
          failed++;
          if (failures.length < 10) failures.push(`${url}: HTTP ${res.status}`);
        }
      } catch (err) {
        failed++;
        if (failures.length < 10) failures.push(`${url}: ${err instanceof Error ? err.message : String(err)}`);
      } finally {
        inFlight--;
        const t1 = performance.now();
        latenciesMs.push(t1 - t0);
        completedAtMs.push(t1 - started);
      }
    }
  };
  const loops = Array.from({ length: options.connections }, () => loop());
  return {
    startedAt: started,
    inFlight: () => inFlight,
    async stop() {
      stopping = true;
      await Promise.all(loops);
      return { ok, failed, failures, latenciesMs, completedAtMs };
    },
  };
}
