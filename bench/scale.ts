/**
 * @module `npm run bench:scale`: throughput of the local topology (deploy/local/topology.mjs: nginx
 * in front of N `rtrec serve` processes sharing a 3-master Redis Cluster) with 1, 2 and 4 API
 * processes, and the latency while one of 4 processes is killed with SIGKILL. The load generator
 * (autocannon, closed loop: each connection sends its next request when the previous one is
 * answered) runs in this process and asks for k = 10 recommendations of random known users through
 * nginx. Everything shares this machine's cores, so the numbers show how far one machine scales, not
 * how a cluster of machines would.
 *
 * Options: --duration 8 (s per measurement) --warmup 2 (s) --connections 64 --instances 1,2,4 --no-write
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { formatTable } from '../src/cli/kit.js';
import { createRng } from '../src/core/rng.js';
import { missingTopologyTools, topologyDown, topologyUp, type TopologyState } from '../deploy/local/topology-client.js';
import { writeBenchmarkSection } from './report.js';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '8' },
    warmup: { type: 'string', default: '2' },
    connections: { type: 'string', default: '64' },
    instances: { type: 'string', default: '1,2,4' },
    'no-write': { type: 'boolean', default: false },
  },
});
const DURATION_S = Number(args.duration);
const WARMUP_S = Number(args.warmup);
const CONNECTIONS = Number(args.connections);
const COUNTS = args.instances.split(',').map(Number);
/** Users of the topology's made-up data set (u0 … u299). */
const USERS = 300;

interface Row {
  readonly label: string;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly failed: number;
  readonly total: number;
}

async function load(url: string, seconds: number, seed: number, label: string, during?: () => void): Promise<Row> {
  const rng = createRng(seed);
  const pick = (): string => `/v1/users/u${rng.int(USERS)}/recommendations?k=10`;
  const timer = during ? setTimeout(during, (seconds * 1000) / 2) : undefined;
  try {
    const r = await autocannon({ url, connections: CONNECTIONS, duration: seconds, timeout: 10, requests: [{ setupRequest: (req) => ({ ...req, path: pick() }) }] });
    return { label, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max, failed: r.errors + r.timeouts + r.non2xx, total: r.requests.total };
  } finally {
    clearTimeout(timer);
  }
}

async function withTopology<T>(instances: number, fn: (t: TopologyState) => Promise<T>): Promise<T> {
  const base = await mkdtemp(join(tmpdir(), 'rtrec-bench-scale-'));
  const stateDir = join(base, 'state');
  try {
    const topo = await topologyUp({ instances, stateDir });
    return await fn(topo);
  } finally {
    await topologyDown(stateDir).catch(() => undefined);
    await rm(base, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const missing = missingTopologyTools();
  if (missing.length > 0) throw new Error(`${missing.join(', ')} not installed (apt-get install redis-server redis-tools nginx)`);
  const rows: Row[] = [];
  let killRow: Row | undefined;
  let killBaseline: Row | undefined;
  for (const [j, n] of COUNTS.entries()) {
    await withTopology(n, async (topo) => {
      process.stderr.write(`bench:scale: ${n} API process(es) behind nginx at ${topo.nginx.url}\n`);
      await load(topo.nginx.url, WARMUP_S, 1000 + j, 'warmup');
      const row = await load(topo.nginx.url, DURATION_S, 2000 + j, `${n} API process${n > 1 ? 'es' : ''}`);
      rows.push(row);
      if (n === Math.max(...COUNTS) && n > 1) {
        killBaseline = row;
        const victim = topo.instances[0];
        process.stderr.write(`bench:scale: killing pid ${victim.pid} halfway through the next run\n`);
        killRow = await load(topo.nginx.url, DURATION_S, 3000 + j, `${n} processes, 1 killed (SIGKILL) at ${DURATION_S / 2} s`, () => process.kill(victim.pid, 'SIGKILL'));
      }
    });
  }
  const fmt = (r: Row): string[] => [r.label, r.rps.toFixed(0), r.p50.toFixed(1), r.p99.toFixed(1), r.max.toFixed(0), `${r.failed} / ${r.total}`];
  const head = ['', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'failed / total'];
  const scaling = formatTable(head, rows.map(fmt));
  const kill = killRow && killBaseline ? formatTable(head, [fmt(killBaseline), fmt(killRow)]) : '(not measured: needs more than one process)';
  process.stdout.write(`${scaling}\n\n${kill}\n`);
  const body = [
    `Closed loop, ${CONNECTIONS} connections through nginx (1 worker, \`proxy_next_upstream error timeout http_502\`), GET /v1/users/{random known user}/recommendations?k=10, ${DURATION_S} s per row after ${WARMUP_S} s of warm-up. nginx, the API processes, the 3 Redis Cluster masters and the load generator all share this machine's cores, so on a small machine adding processes mostly adds contention; on Kubernetes each pod brings its own CPU.`,
    '',
    '```',
    scaling,
    '```',
    '',
    'One process killed with SIGKILL halfway through a run (same topology, run just after the row without the kill):',
    '',
    '```',
    kill,
    '```',
  ].join('\n');
  if (!args['no-write']) await writeBenchmarkSection('scale', 'Scale-out: N API processes behind nginx on one machine', body);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
