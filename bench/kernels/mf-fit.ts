/**
 * @module Times ALS fits (build first: `npm run bench:build`):
 *   node dist-bench/bench/kernels/mf-fit.js als  [threads]
 *       explicit ALS, rank 10, 15 iterations, all of MovieLens 100K (943 × 1682, 100K ratings)
 *   node dist-bench/bench/kernels/mf-fit.js ials [threads] [users] [items] [perUser]
 *       implicit ALS, rank 64, 15 iterations, random power-law matrix (default 200k × 20k, ~10M nonzeros)
 * Prints wall-clock and CPU seconds: on a shared machine CPU time tells the kernels' cost.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { csrFromCoo, type CsrMatrix } from '../../src/core/csr.js';
import { createRng } from '../../src/core/rng.js';
import { alsFactory } from '../../src/models/als.js';
import { ialsFactory } from '../../src/models/ials.js';
import { movielens100kDir } from '../movielens.js';

function movielens(): CsrMatrix {
  const lines = readFileSync(join(movielens100kDir(), 'u.data'), 'utf8').trim().split('\n');
  const u = new Int32Array(lines.length), i = new Int32Array(lines.length), r = new Float32Array(lines.length);
  lines.forEach((line, n) => {
    const [a, b, c] = line.split('\t');
    u[n] = Number(a) - 1;
    i[n] = Number(b) - 1;
    r[n] = Number(c);
  });
  return csrFromCoo(943, 1682, u, i, r);
}

/** Log-normal row lengths (mean perUser), item popularity ∝ a power law; strengths 1..3. */
function powerLaw(users: number, items: number, perUser: number): CsrMatrix {
  const rng = createRng(1);
  const lengths = Float64Array.from({ length: users }, () => Math.exp(rng.normal()));
  const scale = (perUser * users) / lengths.reduce((s, v) => s + v, 0);
  const indptr = new Int32Array(users + 1);
  for (let u = 0; u < users; u++) indptr[u + 1] = indptr[u] + Math.min(items >> 1, Math.max(1, Math.round(lengths[u] * scale)));
  const nnz = indptr[users];
  const indices = new Int32Array(nnz), data = new Float32Array(nnz);
  const seen = new Uint8Array(items);
  for (let u = 0; u < users; u++) {
    const start = indptr[u], end = indptr[u + 1];
    for (let q = start; q < end; ) {
      const item = Math.floor(items * Math.pow(rng.next(), 2.5));
      if (seen[item]) continue;
      seen[item] = 1;
      indices[q++] = item;
    }
    indices.subarray(start, end).sort();
    for (let q = start; q < end; q++) {
      seen[indices[q]] = 0;
      data[q] = 1 + rng.int(3);
    }
  }
  return { rows: users, cols: items, indptr, indices, data };
}

const [kind = 'als', threadsArg = '2', usersArg = '200000', itemsArg = '20000', perUserArg = '50'] = process.argv.slice(2);
const threads = Number(threadsArg);
const matrix = kind === 'als' ? movielens() : powerLaw(Number(usersArg), Number(itemsArg), Number(perUserArg));
console.log(`${kind}: ${matrix.rows} × ${matrix.cols}, ${matrix.indptr[matrix.rows]} nonzeros, ${threads} thread(s)`);
const model = kind === 'als' ? alsFactory.create({ rank: 10, iterations: 15 }) : ialsFactory.create({ rank: 64, iterations: 15 });
const cpu = process.cpuUsage();
const report = await model.fit(matrix, {
  threads,
  onIteration: (e) => console.log(`  iteration ${e.iteration}/${e.total} at ${e.seconds.toFixed(2)} s${e.loss === undefined ? '' : `, train RMSE ${e.loss.toFixed(4)}`}`),
});
const used = process.cpuUsage(cpu);
console.log(`fit: ${report.seconds.toFixed(2)} s wall, ${((used.user + used.system) / 1e6).toFixed(2)} s CPU (all threads)`);
