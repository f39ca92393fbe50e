#!/usr/bin/env node
/**
 * @module The production topology on one machine, without containers: a 3-master Redis Cluster,
 * N `rtrec serve` processes sharing it, and nginx in front of them, all on 127.0.0.1. A small
 * made-up data set is trained and published by separate `rtrec` processes, as the CronJob of the
 * Helm chart does. Every process runs detached with its pid in `<state dir>/state.json`, so `up`
 * returns once everything answers and `down` (from any shell) stops exactly those processes.
 *
 *   node deploy/local/topology.mjs up [--instances N] [--state-dir DIR] [--json]
 *   node deploy/local/topology.mjs publish [--state-dir DIR] [--json]   (a new version, from a separate process)
 *   node deploy/local/topology.mjs down [--state-dir DIR]
 *
 * Needs `redis-server`, `redis-cli` and `nginx` on PATH (or RTREC_REDIS_SERVER, RTREC_REDIS_CLI,
 * RTREC_NGINX) and a built rtrec (`npm run build`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, openSync, closeSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const RTREC = join(REPO, 'bin', 'rtrec.js');
const REDIS_SERVER = process.env.RTREC_REDIS_SERVER ?? 'redis-server';
const REDIS_CLI = process.env.RTREC_REDIS_CLI ?? 'redis-cli';
const NGINX = process.env.RTREC_NGINX ?? 'nginx';
const HOST = '127.0.0.1';
/** The admin/events key of the local topology: a fixed value, since everything listens on loopback only. */
export const LOCAL_API_KEY = 'local-topology-key-0123456789';
const DEFAULT_STATE_DIR = process.env.RTREC_LOCAL_STATE ?? join(tmpdir(), 'rtrec-local-topology');
/** Made-up data set size: big enough for distinct lists per user, small enough to train in about a second. */
const DATA = { users: 300, items: 120, perUser: 12, seed: 20261127 };

// ---------------------------------------------------------------------------------------------
// small helpers

/** Deterministic 32-bit generator (mulberry32): the data set must be the same on every run. */
function seeded(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function listenOnce(port) {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(port, HOST, () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

/** A free port (with `busToo`, port + 10000 is free as well, for the Redis cluster bus), not in `taken`. */
async function freePort(taken, busToo = false) {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = await listenOnce(0);
    if (taken.has(port) || (busToo && (port + 10_000 >= 65_536 || taken.has(port + 10_000)))) continue;
    if (busToo && !(await listenOnce(port + 10_000).then(() => true, () => false))) continue;
    taken.add(port);
    if (busToo) taken.add(port + 10_000);
    return port;
  }
  throw new Error('no free port found');
}

/** One inline Redis command; resolves with the raw reply. */
function redisCommand(port, command, timeoutMs = 1_000) {
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
    sock.connect(port, HOST, () => sock.write(`${command}\r\n`));
  });
}

/** Polls `check` until it is true; gives up at the timeout, or at once when process `pid` has exited. */
async function waitFor(what, check, timeoutMs = 20_000, pid = undefined) {
  const start = Date.now();
  for (;;) {
    if (pid !== undefined && !alive(pid)) throw new Error(`process ${pid} exited while waiting for ${what}`);
    try {
      if (await check()) return;
    } catch {
      // not up yet
    }
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

async function httpOk(url) {
  const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
  await res.arrayBuffer();
  return res.status === 200;
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Starts a detached process with output to `<dir>/<name>.log`; it outlives this script until `down`. */
function daemon(name, cmd, args, dir, env = {}) {
  const log = openSync(join(dir, `${name}.log`), 'a');
  const child = spawn(cmd, args, { cwd: dir, detached: true, stdio: ['ignore', log, log], env: { ...process.env, ...env } });
  closeSync(log);
  child.unref();
  if (child.pid === undefined) throw new Error(`could not start ${cmd}`);
  return child.pid;
}

/** Runs an rtrec command in a separate process and returns its parsed --json output. */
function rtrecJson(args, cwd) {
  const res = spawnSync(process.execPath, [RTREC, ...args, '--json'], { cwd, encoding: 'utf8', timeout: 120_000, env: { ...process.env, RTREC_LOG_LEVEL: 'warn' } });
  if (res.status !== 0) throw new Error(`rtrec ${args[0]} failed (exit ${res.status}): ${res.stderr || res.stdout}`);
  return JSON.parse(res.stdout);
}

// ---------------------------------------------------------------------------------------------
// state

async function readState(stateDir) {
  try {
    return JSON.parse(await readFile(join(stateDir, 'state.json'), 'utf8'));
  } catch {
    return null;
  }
}

async function saveState(state) {
  await writeFile(join(state.stateDir, 'state.json'), `${JSON.stringify(state, null, 2)}\n`);
}

/** Every pid the state lists, front to back (nginx first, so no new request reaches a stopping server). */
function pidsOf(state) {
  return [state.nginx?.pid, ...(state.instances ?? []).map((i) => i.pid), ...(state.redis?.pids ?? [])].filter((p) => typeof p === 'number');
}

// ---------------------------------------------------------------------------------------------
// the pieces

async function startRedisCluster(state, taken) {
  const dir = join(state.stateDir, 'redis');
  await mkdir(dir, { recursive: true });
  const ports = [];
  while (ports.length < 3) ports.push(await freePort(taken, true));
  state.redis = { ports, pids: [], url: `redis+cluster://${ports.map((p) => `${HOST}:${p}`).join(',')}` };
  for (const port of ports) {
    state.redis.pids.push(daemon(`redis-${port}`, REDIS_SERVER, [
      '--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--dir', dir, '--protected-mode', 'no',
      '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '2000',
    ], dir));
  }
  await saveState(state);
  for (const [j, port] of ports.entries()) await waitFor(`redis node ${port}`, async () => (await redisCommand(port, 'PING')).startsWith('+PONG'), 20_000, state.redis.pids[j]);
  const created = spawnSync(REDIS_CLI, ['--cluster', 'create', ...ports.map((p) => `${HOST}:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8', timeout: 30_000 });
  if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stderr || created.stdout}`);
  for (const port of ports) await waitFor(`cluster state ok on ${port}`, async () => (await redisCommand(port, 'CLUSTER INFO')).includes('cluster_state:ok'));
}

/** Writes the made-up interactions (user, item, rating) and trains a small ALS model from them. */
async function trainModel(state) {
  const rand = seeded(DATA.seed);
  const rows = ['userId,itemId,rating'];
  for (let u = 0; u < DATA.users; u++) {
    const picked = new Set();
    // Users lean towards one of four item blocks, so the model has structure to learn.
    const block = u % 4;
    while (picked.size < DATA.perUser) {
      const i = rand() < 0.7 ? block * (DATA.items / 4) + Math.floor(rand() * (DATA.items / 4)) : Math.floor(rand() * DATA.items);
      picked.add(i);
    }
    for (const i of picked) rows.push(`u${u},i${i},${1 + Math.floor(rand() * 5)}`);
  }
  const data = join(state.stateDir, 'interactions.csv');
  await writeFile(data, `${rows.join('\n')}\n`);
  state.modelDir = join(state.stateDir, 'model');
  rtrecJson(['train', '--data', data, '--model', 'als', '--rank', '8', '--iterations', '5', '--threads', '1', '--seed', '1', '--out', state.modelDir], state.stateDir);
}

/** `rtrec publish` in its own process; returns the version it activated. */
function publish(state) {
  const report = rtrecJson(['publish', '--model', state.modelDir, '--store', state.redis.url, '--threads', '1'], state.stateDir);
  return report.version;
}

async function startInstances(state, taken, count) {
  state.instances = [];
  for (let i = 0; i < count; i++) {
    const port = await freePort(taken);
    const pid = daemon(`serve-${port}`, process.execPath, [
      RTREC, 'serve', '--store', state.redis.url, '--host', HOST, '--port', String(port), '--model-dir', state.modelDir, '--log-level', 'warn', '--trust-proxy', 'loopback',
    ], state.stateDir, { RTREC_API_KEYS: LOCAL_API_KEY });
    state.instances.push({ port, pid, url: `http://${HOST}:${port}` });
  }
  await saveState(state);
  await Promise.all(state.instances.map((inst) => waitFor(`rtrec serve on ${inst.port} (see serve-${inst.port}.log)`, () => httpOk(`${inst.url}/readyz`), 60_000, inst.pid)));
}

/** nginx.conf: round robin over the instances; a refused or reset connection moves the request to the next one. */
export function nginxConfig(dir, port, upstreamPorts) {
  return `# generated by deploy/local/topology.mjs
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  client_body_buffer_size 1m;
  client_max_body_size 2m;
  upstream rtrec {
${upstreamPorts.map((p) => `    server ${HOST}:${p} max_fails=1 fail_timeout=5s;`).join('\n')}
    keepalive 64;
  }
  server {
    listen ${HOST}:${port};
    location / {
      proxy_pass http://rtrec;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      # A killed instance refuses or resets connections: retry on another one. POSTs are not
      # retried (nginx never retries non-idempotent requests unless told), so no event is sent twice.
      proxy_next_upstream error timeout http_502;
      proxy_next_upstream_timeout 5s;
      proxy_connect_timeout 1s;
      proxy_read_timeout 10s;
      proxy_max_temp_file_size 0;
    }
  }
}
`;
}

async function startNginx(state, taken) {
  const dir = join(state.stateDir, 'nginx');
  await mkdir(dir, { recursive: true });
  // nginx workers drop to an unprivileged user when started as root: they must be able to enter the folder.
  await chmod(state.stateDir, 0o755);
  await chmod(dir, 0o755);
  const port = await freePort(taken);
  const conf = join(dir, 'nginx.conf');
  await writeFile(conf, nginxConfig(dir, port, state.instances.map((i) => i.port)));
  const check = spawnSync(NGINX, ['-t', '-q', '-p', dir, '-e', join(dir, 'nginx-error.log'), '-c', conf], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`nginx -t rejected ${conf}: ${check.stderr}`);
  const pid = daemon('nginx', NGINX, ['-p', dir, '-e', join(dir, 'nginx-error.log'), '-c', conf], dir);
  state.nginx = { port, pid, url: `http://${HOST}:${port}`, config: conf };
  await saveState(state);
  await waitFor(`nginx on ${port} (see ${dir}/nginx-error.log)`, () => httpOk(`${state.nginx.url}/readyz`), 20_000, pid);
}

// ---------------------------------------------------------------------------------------------
// commands

/** Brings the topology up and returns its state (URLs, ports, pids). Stops what it started on failure. */
export async function up({ instances = 3, stateDir = DEFAULT_STATE_DIR } = {}) {
  const previous = await readState(stateDir);
  if (previous && pidsOf(previous).some(alive)) throw new Error(`a topology is already running from ${stateDir}: run "down" first`);
  await rm(stateDir, { recursive: true, force: true });
  await mkdir(stateDir, { recursive: true });
  const state = { stateDir, apiKey: LOCAL_API_KEY, startedAt: new Date().toISOString() };
  const taken = new Set();
  try {
    await startRedisCluster(state, taken);
    await trainModel(state);
    state.versions = [publish(state)];
    await startInstances(state, taken, instances);
    await startNginx(state, taken);
    await saveState(state);
    return state;
  } catch (err) {
    await stopPids(pidsOf(state));
    throw err;
  }
}

/** Publishes the model again from a separate `rtrec publish` process; returns the new version. */
export async function publishAgain({ stateDir = DEFAULT_STATE_DIR } = {}) {
  const state = await readState(stateDir);
  if (!state?.redis) throw new Error(`no topology in ${stateDir}: run "up" first`);
  const version = publish(state);
  state.versions = [...(state.versions ?? []), version];
  await saveState(state);
  return version;
}

async function stopPids(pids) {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + 5_000;
  while (pids.some(alive) && Date.now() < deadline) await sleep(50);
  for (const pid of pids.filter(alive)) process.kill(pid, 'SIGKILL');
}

/** Stops every process of the topology and removes its state folder. */
export async function down({ stateDir = DEFAULT_STATE_DIR } = {}) {
  const state = await readState(stateDir);
  if (state) await stopPids(pidsOf(state));
  await rm(stateDir, { recursive: true, force: true });
  return state !== null;
}

function parseArgs(argv) {
  const opts = { command: argv[0], instances: 3, stateDir: DEFAULT_STATE_DIR, json: false };
  for (let j = 1; j < argv.length; j++) {
    const a = argv[j];
    if (a === '--json') opts.json = true;
    else if (a === '--instances' || a === '-n') opts.instances = Number(argv[++j]);
    else if (a === '--state-dir') opts.stateDir = argv[++j];
    else if (/^\d+$/.test(a)) opts.instances = Number(a);
    else throw new Error(`unknown argument ${a}`);
  }
  if (!Number.isInteger(opts.instances) || opts.instances < 1 || opts.instances > 64) throw new Error('--instances must be an integer from 1 to 64');
  return opts;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.command === 'up') {
    for (const bin of [REDIS_SERVER, REDIS_CLI, NGINX]) {
      if (spawnSync(bin, [bin === NGINX ? '-v' : '--version'], { stdio: 'ignore' }).status !== 0) throw new Error(`${bin} is not installed (apt-get install redis-server redis-tools nginx)`);
    }
    if (!existsSync(join(REPO, 'dist', 'cli'))) throw new Error('rtrec is not built: run npm run build');
    const state = await up(opts);
    if (opts.json) process.stdout.write(`${JSON.stringify(state)}\n`);
    else {
      process.stdout.write([
        `load balancer  ${state.nginx.url}   (e.g. curl ${state.nginx.url}/v1/users/u1/recommendations)`,
        ...state.instances.map((i) => `instance       ${i.url}   pid ${i.pid}`),
        `store          ${state.redis.url}`,
        `model          ${state.modelDir} (version ${state.versions[0]} active)`,
        `API key        ${state.apiKey}`,
        `state          ${state.stateDir} (logs there); stop with: node deploy/local/topology.mjs down --state-dir ${state.stateDir}`,
        '',
      ].join('\n'));
    }
  } else if (opts.command === 'publish') {
    const version = await publishAgain(opts);
    process.stdout.write(opts.json ? `${JSON.stringify({ version })}\n` : `published and activated version ${version}\n`);
  } else if (opts.command === 'down') {
    const was = await down(opts);
    if (!opts.json) process.stdout.write(was ? `stopped the topology in ${opts.stateDir}\n` : `nothing running in ${opts.stateDir}\n`);
  } else {
    throw new Error('usage: topology.mjs up|publish|down [--instances N] [--state-dir DIR] [--json]');
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    process.stderr.write(`topology: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
