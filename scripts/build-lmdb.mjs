#!/usr/bin/env node
// Builds lmdb-js's native addon from the C sources its package ships, with one fix to LMDB, so that
// a store can be opened by one process while another writes it. Runs as this package's postinstall
// (and `npm run build:lmdb`); takes about a minute on two cores, and is skipped when the build is
// already there (the stamp below matches).
//
// The bug: in lmdb-js's copy of LMDB (2.9.4, and 3.5.6, the latest), every process that opens an
// environment stores the transaction id of the meta page it read while opening into the lock file's
// "last committed transaction", without taking the writer lock. Upstream LMDB does that only when
// opening with MDB_PREVSNAPSHOT, and lmdb-js clears that flag for every opener but the first. When
// another process commits between that read and that store, the shared id goes back by one
// transaction; the next write transaction, in any process, then starts from the meta page before
// that commit and overwrites it: the commit is lost (acknowledged events with it), and the pages it
// freed may be reused while still in use (later commits failed with MDB_BAD_TXN "mdb_page_touch no
// parent"). src/store/lmdb-multiprocess.test.ts checks it: a writer committing single events while
// three processes open and close the store lost commits, or died of SIGSEGV, in 3 runs of 3 with the
// prebuilt binary, and in none of 14 with this build.
//
// RTREC_SKIP_LMDB_BUILD=1 keeps the prebuilt binary: then open an LMDB store from one process at a
// time while it is written (rtrec serve logs a warning; see docs/operate.md).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync, realpathSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The fix's name, recorded in the stamp; src/store/lmdb-binary.ts checks for the same name. */
const FIX = 'lmdb-open-keeps-last-txnid';
const LMDB_VERSION = '2.9.4';
const SOURCE = 'dependencies/lmdb/libraries/liblmdb/mdb.c';
const BEFORE = '\tif (env->me_txns)\n\t\tenv->me_txns->mti_txnid = meta.mm_txnid;\n';
const AFTER = '\tif (prev && env->me_txns)\n\t\tenv->me_txns->mti_txnid = meta.mm_txnid;\n';
/** Written beside build/Release by this script; src/store/lmdb-binary.ts reads it. */
const STAMP = 'build/rtrec-lmdb-fix.json';
const BINARY = 'build/Release/lmdb.node';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));

function fail(message) {
  process.stderr.write(`\nrtrec: cannot build LMDB with its multi-process fix: ${message}\n`);
  process.stderr.write('rtrec: RTREC_SKIP_LMDB_BUILD=1 keeps lmdb-js\'s prebuilt binary instead; then open an LMDB store from one process at a time while it is written (docs/operate.md).\n\n');
  process.exit(1);
}

const sha256 = (path) => createHash('sha256').update(readFileSync(path)).digest('hex');

if (process.env.RTREC_SKIP_LMDB_BUILD === '1') {
  process.stderr.write('rtrec: RTREC_SKIP_LMDB_BUILD=1: keeping lmdb-js\'s prebuilt binary, without the fix for processes opening a store while another writes it (docs/operate.md)\n');
  process.exit(0);
}
/** lmdb's package folder as this package resolves it (hoisted or not); its exports hide package.json. */
function findLmdb() {
  let dir;
  try {
    dir = dirname(require.resolve('lmdb'));
  } catch {
    fail(`this package cannot find its lmdb dependency from ${root} (run npm ci first)`);
  }
  for (; dir !== dirname(dir); dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'lmdb') return dir;
  }
  return fail(`no package.json of lmdb above ${require.resolve('lmdb')}`);
}

/** Runs a file operation, turning its error into fail(): node_modules may be read-only. */
function fsStep(what, op) {
  try {
    return op();
  } catch (err) {
    return fail(`${what}: ${err.message}`);
  }
}

const lmdbDir = findLmdb();
const version = JSON.parse(readFileSync(join(lmdbDir, 'package.json'), 'utf8')).version;
if (version !== LMDB_VERSION) fail(`lmdb is ${version}, and this fix was written and tested for ${LMDB_VERSION}: check whether ${version} still needs it, then update scripts/build-lmdb.mjs`);

// 1. The source: fixed in place (idempotent), written whole or not at all.
const sourcePath = join(lmdbDir, SOURCE);
const source = fsStep(`reading ${sourcePath}`, () => readFileSync(sourcePath, 'utf8'));
const count = (text) => source.split(text).length - 1;
if (count(BEFORE) === 1 && count(AFTER) === 0) {
  const tmp = `${sourcePath}.rtrec-tmp`;
  fsStep(`fixing ${sourcePath}`, () => {
    writeFileSync(tmp, source.replace(BEFORE, AFTER));
    renameSync(tmp, sourcePath);
  });
} else if (!(count(BEFORE) === 0 && count(AFTER) === 1)) {
  fail(`${SOURCE} in lmdb ${version} does not have the expected lines once (found ${count(BEFORE)} unfixed, ${count(AFTER)} fixed)`);
}

// 2. Up to date: the stamp names this fix, this lmdb and this Node ABI, and the binary it hashed.
const stampPath = join(lmdbDir, STAMP);
const binaryPath = join(lmdbDir, BINARY);
const wanted = { fix: FIX, lmdb: version, abi: process.versions.modules, platform: `${process.platform}-${process.arch}` };
if (existsSync(stampPath) && existsSync(binaryPath)) {
  try {
    const stamp = JSON.parse(readFileSync(stampPath, 'utf8'));
    if (Object.entries(wanted).every(([k, v]) => stamp[k] === v) && stamp.sha256 === sha256(binaryPath)) {
      console.log(`rtrec: LMDB already built with its multi-process fix (${BINARY})`);
      process.exit(0);
    }
  } catch {
    // Unreadable stamp: build again.
  }
}

// 3. The tools node-gyp needs, named up front rather than through a compiler error.
// (On Windows node-gyp looks for Visual Studio itself, and says what is missing.)
const tools = process.platform === 'win32' ? [] : ['make', process.env.CXX || 'g++', process.env.CC || 'cc', 'python3'];
const missing = tools.filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
if (missing.length > 0) fail(`missing ${missing.join(', ')} (on Debian/Ubuntu: apt-get install g++ make python3)`);
// npm names its node-gyp to every script it runs; else npm's usual places, else a node-gyp package.
const resolveGyp = () => {
  try {
    return require.resolve('node-gyp/bin/node-gyp.js');
  } catch {
    return undefined;
  }
};
const gypCandidates = [
  process.env.npm_config_node_gyp,
  process.env.npm_execpath && join(dirname(dirname(process.env.npm_execpath)), 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  resolveGyp(),
].filter(Boolean);
const nodeGyp = gypCandidates.find((p) => existsSync(p));
if (!nodeGyp) fail(`node-gyp not found (npm ships it; looked in ${gypCandidates.join(', ')}); npm install -g node-gyp provides one`);
// Node's headers where this node is installed, when they are there; else node-gyp downloads them.
const prefix = resolve(dirname(process.execPath), '..');
const args = [nodeGyp, 'rebuild', '-j', String(availableParallelism())];
if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);

// 4. Build, with the compiler's output in a log and a line of progress on a terminal.
const logPath = join(lmdbDir, 'rtrec-build.log');
const started = Date.now();
const elapsed = () => `${Math.round((Date.now() - started) / 1000)} s`;
console.log(`rtrec: building LMDB ${version} from source with its multi-process fix (about a minute; log: ${logPath})`);
const log = createWriteStream(logPath);
// lmdb's binding.gyp reads these: LMDB_DATA_V1 would build the older data format, which may not
// open existing stores; the others change how the binary calls into V8. The build uses its defaults.
const env = { ...process.env };
for (const name of ['LMDB_DATA_V1', 'ENABLE_V8_FUNCTIONS', 'ENABLE_FAST_API_CALLS']) delete env[name];
const child = spawn(process.execPath, args, { cwd: lmdbDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
child.stdout.pipe(log, { end: false });
child.stderr.pipe(log, { end: false });
const ticker = process.stdout.isTTY ? setInterval(() => process.stdout.write(`\rrtrec: compiling… ${elapsed()}`), 1000) : undefined;
const code = await new Promise((done) => child.on('close', done));
if (ticker) {
  clearInterval(ticker);
  process.stdout.write('\n');
}
await new Promise((done) => log.end(done));
if (code !== 0) {
  const tail = readFileSync(logPath, 'utf8').trimEnd().split('\n').slice(-30).join('\n');
  fail(`node-gyp exited with ${code} after ${elapsed()}; the end of ${logPath}:\n${tail}`);
}

// 5. lmdb-js must now load this binary (it prefers build/Release over its prebuilt packages); the
// maps show resolved paths. Only Linux shows them.
if (process.platform === 'linux') {
  const probe = spawnSync(process.execPath, ['--input-type=module', '-e', "await import('lmdb'); const fs = await import('node:fs'); process.stdout.write(fs.readFileSync('/proc/self/maps', 'utf8'))"], { cwd: root, encoding: 'utf8' });
  if (probe.status !== 0 || !probe.stdout.includes(realpathSync(binaryPath))) {
    fail(`the new binary built, but lmdb does not load it (${probe.status !== 0 ? probe.stderr.trim() : 'another binary was mapped'})`);
  }
}
fsStep(`writing ${stampPath}`, () => writeFileSync(stampPath, `${JSON.stringify({ ...wanted, sha256: sha256(binaryPath) }, null, 2)}\n`));
console.log(`rtrec: LMDB built with its multi-process fix in ${elapsed()} (${BINARY})`);
