/**
 * @module `npm run bench:fold-solve`: the exact single-user solve of a fold-in (models/mf-solve.ts,
 * what every real-time event of a factorisation model costs on a fold thread), with its Gram sums in
 * JavaScript against WebAssembly SIMD (math/gram-f64.ts), interleaved round by round in one process
 * so both see the same machine. Implicit ALS (the bench:realtime-batched 50k model's kind) over a
 * 50k-item catalogue of random factors; each user's items drawn with popularity skewed to the head
 * (item = ⌊numItems·u²⌋), as real catalogues are. Reported: the median over rounds of µs per solve,
 * and the ratio.
 *
 * Also the Cholesky factorisation every solve ends with: the unrolled kernel (math/cholesky.ts) against
 * the textbook one-row-at-a-time loop it replaced (math/reference.ts), interleaved the same way.
 *
 * Options: --ranks 32,64 --entries 10,50,100,300 --items 50000 --users 500 --rounds 9 --no-write
 */
import { parseArgs } from 'node:util';
import { formatTable } from '../../src/cli/kit.js';
import { createRng } from '../../src/core/rng.js';
import { choleskyFactor } from '../../src/math/cholesky.js';
import { choleskyFactorReference, randomSpdMatrix } from '../../src/math/reference.js';
import { createSolveWorkspace, gramMatrix, solveImplicitRow, type SolveWorkspace } from '../../src/models/mf-solve.js';
import { median, writeBenchmarkSection } from '../report.js';

const { values: args } = parseArgs({
  options: {
    ranks: { type: 'string', default: '32,64' },
    entries: { type: 'string', default: '10,50,100,300' },
    items: { type: 'string', default: '50000' },
    users: { type: 'string', default: '500' },
    rounds: { type: 'string', default: '9' },
    'no-write': { type: 'boolean', default: false },
  },
});
const RANKS = args.ranks.split(',').map(Number);
const ENTRIES = args.entries.split(',').map(Number);
const ITEMS = Number(args.items);
const USERS = Number(args.users);
const ROUNDS = Number(args.rounds);
for (const [name, v] of [['items', ITEMS], ['users', USERS], ['rounds', ROUNDS], ...RANKS.map((r) => ['ranks', r] as const), ...ENTRIES.map((e) => ['entries', e] as const)] as const) {
  if (!(Number.isInteger(v) && v > 0)) throw new Error(`--${name} wants positive whole numbers, got ${String(args[name as keyof typeof args])}`);
}
const REG = 0.05;
const ALPHA = 10;

interface Case {
  readonly rank: number;
  readonly entries: number;
  readonly jsUs: number;
  readonly wasmUs: number;
}

function measureCase(rank: number, entries: number): Case {
  const rng = createRng(rank * 7919 + entries);
  const factors = Float32Array.from({ length: ITEMS * rank }, () => rng.normal() * 0.1);
  const gram = new Float64Array(rank * rank);
  gramMatrix(factors, rank, gram);
  const users = Array.from({ length: USERS }, () => ({
    items: Int32Array.from({ length: entries }, () => Math.floor(ITEMS * rng.next() ** 2)),
    values: Float32Array.from({ length: entries }, () => 1 + rng.int(3)),
  }));
  const js = createSolveWorkspace(rank, { simd: false });
  const wasm = createSolveWorkspace(rank);
  const pass = (ws: SolveWorkspace): number => {
    const t0 = performance.now();
    for (const u of users) solveImplicitRow(factors, rank, gram, u.items, u.values, REG, ALPHA, ws);
    return ((performance.now() - t0) * 1000) / users.length;
  };
  // Warm-up: both paths compiled and their buffers sized before timing.
  pass(js);
  pass(wasm);
  if (wasm.gram === null) throw new Error('WebAssembly SIMD is not available in this runtime: nothing to compare');
  const jsRounds: number[] = [];
  const wasmRounds: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    jsRounds.push(pass(js));
    wasmRounds.push(pass(wasm));
  }
  return { rank, entries, jsUs: median(jsRounds), wasmUs: median(wasmRounds) };
}

const cases: Case[] = [];
for (const rank of RANKS) {
  for (const entries of ENTRIES) {
    const c = measureCase(rank, entries);
    cases.push(c);
    process.stderr.write(`rank ${rank}, ${entries} entries: JavaScript ${c.jsUs.toFixed(1)} µs, WebAssembly ${c.wasmUs.toFixed(1)} µs\n`);
  }
}
const table = formatTable(
  ['rank', 'entries', 'JavaScript µs/solve', 'WebAssembly SIMD µs/solve', 'speed-up'],
  cases.map((c) => [c.rank, c.entries, c.jsUs.toFixed(1), c.wasmUs.toFixed(1), `${(c.jsUs / c.wasmUs).toFixed(2)}×`]),
);
process.stdout.write(`${table}\n`);

interface CholeskyCase {
  readonly rank: number;
  readonly textbookUs: number;
  readonly unrolledUs: number;
}

/** µs per factorisation of a fresh copy of a rank×rank SPD matrix (as a solve factors a fresh A). */
function measureCholesky(rank: number): CholeskyCase {
  const spd = randomSpdMatrix(rank, createRng(rank * 104_729), rank);
  const a = new Float64Array(rank * rank);
  const reps = Math.max(1000, Math.round(4e7 / rank ** 3));
  const pass = (factor: (a: Float64Array, n: number) => boolean): number => {
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) {
      a.set(spd);
      if (!factor(a, rank)) throw new Error('the benchmark matrix is not positive definite');
    }
    return ((performance.now() - t0) * 1000) / reps;
  };
  pass(choleskyFactorReference);
  pass(choleskyFactor);
  const textbook: number[] = [];
  const unrolled: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    textbook.push(pass(choleskyFactorReference));
    unrolled.push(pass(choleskyFactor));
  }
  return { rank, textbookUs: median(textbook), unrolledUs: median(unrolled) };
}

const choleskyCases = RANKS.map(measureCholesky);
const choleskyTable = formatTable(
  ['rank', 'textbook loop µs', 'four rows at a time µs', 'speed-up'],
  choleskyCases.map((c) => [c.rank, c.textbookUs.toFixed(2), c.unrolledUs.toFixed(2), `${(c.textbookUs / c.unrolledUs).toFixed(2)}×`]),
);
process.stdout.write(`${choleskyTable}\n`);

if (!args['no-write']) {
  await writeBenchmarkSection(
    'fold-solve',
    'Fold-in solve: Gram sums in JavaScript against WebAssembly SIMD, and the Cholesky factorisation (`npm run bench:fold-solve`)',
    [
      `The exact implicit-ALS solve of one user (models/mf-solve.ts solveImplicitRow: gather the user's item factors, Gram sums, Cholesky), as every real-time event runs it on a fold thread, with the Gram sums in JavaScript or in WebAssembly SIMD (math/gram-f64.ts). `
        + `${ITEMS.toLocaleString('en')} items of random factors, ${USERS} users per pass, items skewed to the popular head; the two paths alternate for ${ROUNDS} rounds in one process, medians shown.`,
      '',
      '```',
      table,
      '```',
      '',
      `The Cholesky factorisation that ends every solve (math/cholesky.ts, four rows below the diagonal at a time, bit for bit the same factor) against the textbook one-row-at-a-time loop (math/reference.ts), on a fresh copy of a random SPD matrix per factorisation, alternating for ${ROUNDS} rounds, medians shown.`,
      '',
      '```',
      choleskyTable,
      '```',
    ].join('\n'),
  );
}
