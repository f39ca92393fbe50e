/**
 * @module `npm run bench:serve`: HTTP latency and throughput of `rtrec serve` over LMDB and over
 * Redis, against a bare node:http server returning a constant JSON body of the same size (the
 * ceiling on this machine), all measured in the same run. The shape follows the reference load
 * test: 200 concurrent connections, random known and unknown user ids, k = 10. Each server runs in
 * its own process; the load generator (autocannon) runs in this one. Targets are run interleaved,
 * `--runs` times, and the median of the runs is reported.
 *
 * Two measurements per server and run: saturation (autocannon; every connection sends its next
 * request as soon as the previous answer arrives: throughput, compared with the bare server) and a
 * fixed total rate (`--rate`, default 2000 req/s, open loop over up to 200 connections, see
 * serve-openloop.ts: latency under a steady load). Under
 * saturation latency is connections / throughput by Little's law, so the latency targets are read
 * from the fixed-rate rows.
 *
 * Each configuration of `--workers` (default 1 and 2: one process, and one per core) is compared with
 * a bare server in as many processes. A single rtrec process runs with the node flags as the image
 * runs it (SERVE_NODE_FLAGS: a larger V8 nursery, single-threaded GC); forked workers get them from
 * rtrec. The bare server runs with the same flags.
 *
 * Options: --runs 3 --duration 10 (s) --warmup 2 (s) --connections 200 --rate 2000 --users 20000
 * --items 2000 --unknown 0.2 (share of unknown user ids) --workers 1,2 --log-level info --no-write
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { formatTable } from '../src/cli/kit.js';
import { createRng } from '../src/core/rng.js';
import { publishModel } from '../src/jobs/publish.js';
import { SERVE_NODE_FLAGS } from '../src/serve/server.js';
import { openStore } from '../src/store/open-store.js';
import { median, writeBenchmarkSection } from './report.js';
import { syntheticAlsModel } from './serve-model.js';
import { treeCpuMs } from './process-cpu.js';
import { openLoop } from './serve-openloop.js';
import { freePort, startBenchRedis } from './serve-redis.js';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    connections: { type: 'string', default: '200' },
    rate: { type: 'string', default: '2000' },
    users: { type: 'string', default: '20000' },
    items: { type: 'string', default: '2000' },
    unknown: { type: 'string', default: '0.2' },
    workers: { type: 'string', default: '1,2' },
    'log-level': { type: 'string', default: 'info' },
    'no-write': { type: 'boolean', default: false },
  },
});
const RUNS = Number(args.runs);
const DURATION = Number(args.duration);
const WARMUP = Number(args.warmup);
const CONNECTIONS = Number(args.connections);
const RATE = Number(args.rate);
const USERS = Number(args.users);
const ITEMS = Number(args.items);
const UNKNOWN = Number(args.unknown);
const WORKER_COUNTS = args.workers.split(',').map(Number);
if (WORKER_COUNTS.some((w) => !Number.isInteger(w) || w < 1)) throw new Error(`--workers wants a comma-separated list of process counts, got ${args.workers}`);
const TARGET_JS = fileURLToPath(new URL('./serve-target.js', import.meta.url));

interface Target {
  readonly name: string;
  readonly argv: (port: number) => string[];
  readonly readyPath: string;
  /** Processes serving (the ratio compares targets with the same count). */
  readonly workers: number;
  readonly env?: Readonly<Record<string, string>>;
  /** Node flags of the server process (forked processes inherit them). */
  readonly nodeFlags?: readonly string[];
}

interface Row {
  readonly p50: number;
  readonly p99: number;
  readonly rps: number;
  readonly errors: number;
  /** Fixed-rate rows: CPU time of the server's processes per completed request, µs (process-cpu.ts). */
  readonly cpuUs?: number;
}

async function startTarget(t: Target): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, [...(t.nodeFlags ?? []), TARGET_JS, ...t.argv(port)], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...t.env } });
  const started = Date.now();
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}${t.readyPath}`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() - started > 30_000) throw new Error(`${t.name} did not become ready`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { port, child };
}

async function stopTarget(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** Random user paths: known ids u0..u(USERS-1), and a share of ids no model knows. */
function pathPicker(seed: number): () => string {
  const rng = createRng(seed);
  return () => {
    const id = rng.next() < UNKNOWN ? `new-user-${rng.int(1_000_000)}` : `u${rng.int(USERS)}`;
    return `/v1/users/${id}/recommendations?k=10`;
  };
}

async function load(port: number, seconds: number, seed: number): Promise<Row> {
  const pick = pathPicker(seed);
  const r = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: CONNECTIONS,
    duration: seconds,
    timeout: 10,
    requests: [{ setupRequest: (req) => ({ ...req, path: pick() }) }],
  });
  return { p50: r.latency.p50, p99: r.latency.p99, rps: r.requests.average, errors: r.errors + r.timeouts + r.non2xx };
}

async function measure(t: Target, seed: number): Promise<{ saturated: Row; steady: Row }> {
  const { port, child } = await startTarget(t);
  try {
    if (WARMUP > 0) await load(port, WARMUP, seed + 1000);
    const saturated = await load(port, DURATION, seed);
    const cpuBefore = treeCpuMs(child.pid!);
    const open = await openLoop({ port, rate: RATE, seconds: DURATION, connections: CONNECTIONS, nextPath: pathPicker(seed + 2000) });
    const steady = { ...open, cpuUs: ((treeCpuMs(child.pid!) - cpuBefore) * 1000) / open.completed };
    return { saturated, steady };
  } finally {
    await stopTarget(child);
  }
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function summary(targets: readonly Target[], rows: ReadonlyMap<string, Row[]>, withRatio: boolean): string {
  const bareRps = (workers: number) => {
    const bare = targets.find((t) => t.workers === workers && t.name.startsWith('bare'))!;
    return median(rows.get(bare.name)!.map((r) => r.rps));
  };
  return formatTable(
    ['server', 'p50 ms', 'p99 ms', 'req/s', ...(withRatio ? ['vs bare'] : ['server CPU µs/req']), 'errors', 'runs (req/s)'],
    targets.map((t) => {
      const rs = rows.get(t.name)!;
      const rps = median(rs.map((r) => r.rps));
      return [
        t.name,
        round2(median(rs.map((r) => r.p50))),
        round2(median(rs.map((r) => r.p99))),
        Math.round(rps),
        ...(withRatio ? [(rps / bareRps(t.workers)).toFixed(2)] : [Math.round(median(rs.map((r) => r.cpuUs ?? NaN)))]),
        rs.reduce((s, r) => s + r.errors, 0),
        rs.map((r) => Math.round(r.rps)).join(', '),
      ];
    }),
  );
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'rtrec-bench-serve-'));
  const redis = await startBenchRedis();
  try {
    process.stderr.write(`building a ${USERS} × ${ITEMS} rank-32 model and publishing it…\n`);
    const model = syntheticAlsModel({ users: USERS, items: ITEMS, rank: 32, seenPerUser: 20 });
    const lmdbUrl = `lmdb://${join(dir, 'store')}`;
    const stores = [lmdbUrl, ...(redis ? [redis.url] : [])];
    for (const url of stores) {
      const store = await openStore(url);
      await publishModel(model, store, { progress: false });
      await store.close();
    }

    const rtrec = (name: string, url: string, workers: number): Target => ({
      name,
      argv: (port) => ['rtrec', String(port), url, String(workers), args['log-level']],
      readyPath: '/readyz',
      workers,
      // As the image runs it; forked workers get the flags from rtrec itself (workerExecArgv).
      nodeFlags: workers === 1 ? SERVE_NODE_FLAGS : [],
    });
    // The ceiling answers with a body exactly as large as a real k=10 answer.
    const probe = await startTarget(rtrec('probe', lmdbUrl, 1));
    const sample = await (await fetch(`http://127.0.0.1:${probe.port}/v1/users/u1/recommendations?k=10`)).text();
    await stopTarget(probe.child);
    const processes = (w: number) => (w === 1 ? '1 process' : `${w} processes`);
    const targets: Target[] = WORKER_COUNTS.flatMap((w) => [
      // The same node flags as rtrec's (measured: they change nothing for the bare server, whose
      // throughput the load generator bounds), so only the servers' work differs.
      { name: `bare node:http, ${processes(w)}`, argv: (port: number) => ['bare', String(port), sample, String(w)], readyPath: '/', workers: w, nodeFlags: SERVE_NODE_FLAGS },
      rtrec(`rtrec serve, LMDB, ${processes(w)}`, lmdbUrl, w),
      ...(redis ? [rtrec(`rtrec serve, Redis, ${processes(w)}`, redis.url, w)] : []),
    ]);

    const saturated = new Map<string, Row[]>(targets.map((t) => [t.name, []]));
    const steady = new Map<string, Row[]>(targets.map((t) => [t.name, []]));
    for (let run = 0; run < RUNS; run++) {
      for (const t of targets) {
        process.stderr.write(`run ${run + 1}/${RUNS}: ${t.name}… `);
        const m = await measure(t, 7 + run);
        saturated.get(t.name)!.push(m.saturated);
        steady.get(t.name)!.push(m.steady);
        process.stderr.write(`saturated ${m.saturated.rps.toFixed(0)} req/s (p50 ${m.saturated.p50} ms); at ${RATE} req/s p50 ${m.steady.p50.toFixed(2)} ms, p99 ${m.steady.p99.toFixed(2)} ms; errors ${m.saturated.errors + m.steady.errors}\n`);
      }
    }
    const table = [
      `Saturation (${CONNECTIONS} connections, closed loop):`,
      summary(targets, saturated, true),
      '',
      `Fixed rate ${RATE} req/s, open loop, up to ${CONNECTIONS} connections:`,
      summary(targets, steady, false),
    ].join('\n');
    const body = [
      `Load: ${CONNECTIONS} concurrent connections, ${DURATION} s per measurement (after ${WARMUP} s warm-up), ${RUNS} runs interleaved, medians shown; `
        + `GET /v1/users/{id}/recommendations?k=10 with random ids, ${Math.round(UNKNOWN * 100)}% unknown to the model (popular fallback). `
        + `Model: synthetic ALS rank 32, ${USERS} users × ${ITEMS} items, top-100 lists published. `
        + `rtrec serve: log level ${args['log-level']}, default configuration otherwise; a single process runs with the node flags ${SERVE_NODE_FLAGS.join(' ')} as the image runs it, forked workers get them from rtrec; the bare server runs with the same flags. `
        + `Each rtrec row is compared (vs bare) with the bare server in as many processes (the bare server is the constant body from node:http; with N processes it uses node:cluster like rtrec). `
        + `Load generator (autocannon) on the same machine.${redis ? ' Redis: a local redis-server without persistence, sharing the 2 cores; each list collection is one hash there, so the reads of one event-loop turn go out as one HMGET (src/store/redis-read-batch.ts).' : ' redis-server not installed: no Redis row.'} `
        + `These requests take rtrec's fast lane (src/serve/fast-lane.ts). A request reuses the selection and rendered answer of the previous one for the same id while the stored list is unchanged: `
        + `with the default 10,000 answer-cache slots (direct-mapped) for ${USERS} random users, about ${Math.round((100 * (1 - Math.exp(-USERS / 10_000))) / (USERS / 10_000))}% of known users' requests are expected to find theirs, and unknown users all share the popular list's; the rest read, select and render in full.`,
      '',
      'Targets (issue 3): p50 <= 5 ms, p99 <= 25 ms, zero errors, throughput >= 0.8 × the bare server. '
        + `Under saturation every server's latency is connections / throughput (Little's law), so latency is read at a fixed rate (${RATE} req/s, ${Math.round(RATE / 180)}× the reference's 180 req/s) and throughput under saturation. `
        + `"server CPU µs/req" is the user + system time of the server's processes (its workers included, redis-server not) over the fixed-rate measurement, per completed request (bench/process-cpu.ts): on this shared machine it moves far less between windows than throughput does.`,
      '',
      '```',
      table,
      '```',
    ].join('\n');
    process.stdout.write(`${table}\n`);
    if (!args['no-write']) await writeBenchmarkSection('serve', 'Serving: HTTP latency and throughput (`npm run bench:serve`)', body);
  } finally {
    await redis?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
