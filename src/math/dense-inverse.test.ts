import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecError } from '../core/errors.js';
import { createRng } from '../core/rng.js';
import { allocateSquare, invertSpd, invertSpdSync } from './dense-inverse.js';
import { resolveWorkerUrl } from './dense-inverse-threads.js';

/** Random SPD matrix M·Mᵀ/n + I with M uniform in [-1, 1), row-major. */
function randomSpd(n: number, seed: number): Float64Array {
  const rng = createRng(seed);
  const m = Float64Array.from({ length: n * n }, () => rng.next() * 2 - 1);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += m[i * n + k] * m[j * n + k];
      a[i * n + j] = s / n + (i === j ? 1 : 0);
    }
  }
  return a;
}

/** Reference: Gauss–Jordan elimination with partial pivoting on [A | I], no symmetry used. */
function gaussJordanInverse(a: Float64Array, n: number): Float64Array {
  const w = 2 * n;
  const m = new Float64Array(n * w);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) m[i * w + j] = a[i * n + j];
    m[i * w + n + i] = 1;
  }
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r * w + c]) > Math.abs(m[piv * w + c])) piv = r;
    for (let k = 0; k < w; k++) {
      const t = m[c * w + k];
      m[c * w + k] = m[piv * w + k];
      m[piv * w + k] = t;
    }
    const d = m[c * w + c];
    for (let k = 0; k < w; k++) m[c * w + k] /= d;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r * w + c];
      if (f !== 0) for (let k = 0; k < w; k++) m[r * w + k] -= f * m[c * w + k];
    }
  }
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) inv[i * n + j] = m[i * w + n + j];
  return inv;
}

function maxAbsDiff(x: Float64Array, y: Float64Array): number {
  let d = 0;
  for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i] - y[i]));
  return d;
}

/** max |A·B − I| */
function identityError(a: Float64Array, b: Float64Array, n: number): number {
  let e = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += a[i * n + k] * b[k * n + j];
      e = Math.max(e, Math.abs(s - (i === j ? 1 : 0)));
    }
  }
  return e;
}

describe('invertSpd', () => {
  // 'wasm': the matrix from allocateSquare, inverted with the wasm SIMD loop; 'js': a plain array.
  for (const storage of ['js', 'wasm'] as const) {
    for (const n of [1, 7, 64, 300]) {
      it(`matches Gauss–Jordan and gives A·A⁻¹ ≈ I for a random ${n}×${n} SPD matrix (${storage})`, async () => {
        const a = randomSpd(n, n);
        const original = a.slice();
        const out = storage === 'wasm' ? allocateSquare(n) : new Float64Array(n * n);
        await invertSpd(a, n, out, { workerUrl: null });
        expect(a).toEqual(original);
        expect(maxAbsDiff(out, gaussJordanInverse(a, n))).toBeLessThan(1e-10);
        expect(identityError(a, out, n)).toBeLessThan(1e-10);
        for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) expect(out[i * n + j]).toBe(out[j * n + i]);
      });
    }
  }

  it('1×1 is 1/a', () => {
    const out = new Float64Array(1);
    invertSpdSync(Float64Array.of(4), 1, out);
    expect(out[0]).toBe(0.25);
  });

  it('inverts in place and reads only the lower triangle', () => {
    const n = 50;
    const a = randomSpd(n, 3);
    const expected = gaussJordanInverse(a, n);
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) a[i * n + j] = 1e9;
    invertSpdSync(a, n, a);
    expect(maxAbsDiff(a, expected)).toBeLessThan(1e-10);
  });

  it('refuses a matrix that is not positive definite, naming the pivot', async () => {
    // [[1, 2], [2, 1]] is symmetric but indefinite: the second pivot is 1 − 4 < 0.
    await expect(invertSpd(Float64Array.of(1, 2, 2, 1), 2, new Float64Array(4))).rejects.toMatchObject({
      code: 'RTREC_ERR_CONFIG_INVALID',
      message: expect.stringMatching(/not positive definite.*row 1/) as unknown,
    });
    expect(() => invertSpdSync(Float64Array.of(-1), 1, new Float64Array(1))).toThrow(RecError);
    expect(() => invertSpdSync(Float64Array.of(1, 0, NaN, 1), 2, new Float64Array(4))).toThrow(/not positive definite/);
  });

  it('refuses buffers of the wrong size', () => {
    expect(() => invertSpdSync(new Float64Array(3), 2, new Float64Array(4))).toThrow(RangeError);
  });

  it('stops with RTREC_ERR_MODEL_FIT_ABORTED when the signal has fired', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(invertSpd(randomSpd(5, 1), 5, new Float64Array(25), { signal: controller.signal })).rejects.toMatchObject({
      code: 'RTREC_ERR_MODEL_FIT_ABORTED',
    });
  });

  it('stops soon after an abort that comes while it runs', async () => {
    const n = 500;
    const controller = new AbortController();
    let steps = 0;
    const run = invertSpd(randomSpd(n, 4), n, new Float64Array(n * n), {
      workerUrl: null,
      signal: controller.signal,
      onProgress: () => {
        if (++steps === 1) controller.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ code: 'RTREC_ERR_MODEL_FIT_ABORTED' });
    expect(steps).toBe(1);
  });

  it('reports progress up to 1', async () => {
    const seen: number[] = [];
    await invertSpd(randomSpd(200, 2), 200, new Float64Array(200 * 200), { workerUrl: null, onProgress: (f) => seen.push(f) });
    expect(seen.at(-1)).toBe(1);
    for (let k = 1; k < seen.length; k++) expect(seen[k]).toBeGreaterThanOrEqual(seen[k - 1]);
  });
});

describe('invertSpd on worker threads', () => {
  let dir: string;
  let workerUrl: URL;

  // The worker must be JavaScript; compile the three files it needs into a temporary folder.
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rtrec-dense-'));
    await writeFile(join(dir, 'package.json'), '{"type":"module"}');
    for (const name of ['dense-inverse-kernels', 'dense-inverse-wasm', 'dense-inverse-worker']) {
      const source = await readFile(new URL(`./${name}.ts`, import.meta.url), 'utf8');
      const { outputText } = ts.transpileModule(source, {
        compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
      });
      await writeFile(join(dir, `${name}.js`), outputText);
    }
    workerUrl = pathToFileURL(join(dir, 'dense-inverse-worker.js'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('gives bit-for-bit the in-process result, with wasm and with the JavaScript loop', async () => {
    const n = 301;
    const a = randomSpd(n, 11);
    const serial = allocateSquare(n);
    invertSpdSync(a, n, serial);
    const shared = allocateSquare(n);
    shared.set(a);
    const report = await invertSpd(shared, n, shared, { threads: 3, workerUrl, parallelMinSize: 0 });
    expect(report.threads).toBe(3);
    expect(shared).toEqual(serial);

    const plainSerial = new Float64Array(n * n);
    invertSpdSync(a, n, plainSerial);
    const plainShared = new Float64Array(new SharedArrayBuffer(8 * n * n));
    expect((await invertSpd(a, n, plainShared, { threads: 2, workerUrl, parallelMinSize: 0 })).threads).toBe(2);
    expect(plainShared).toEqual(plainSerial);
    expect(maxAbsDiff(plainSerial, serial)).toBeLessThan(1e-12);
  });

  it('stops every thread when aborted from a timer while they work', async () => {
    const n = 900;
    const a = allocateSquare(n);
    a.set(randomSpd(n, 8));
    const controller = new AbortController();
    let steps = 0;
    const run = invertSpd(a, n, a, {
      threads: 2,
      workerUrl,
      parallelMinSize: 0,
      signal: controller.signal,
      // The timer fires while the next step's regions run (the calling thread yields every slice).
      onProgress: () => {
        if (++steps === 1) setTimeout(() => controller.abort(), 1);
      },
    });
    await expect(run).rejects.toMatchObject({ code: 'RTREC_ERR_MODEL_FIT_ABORTED' });
    expect(steps).toBeLessThan(6);
  });

  it('runs in-process when the buffer is not shared', async () => {
    const report = await invertSpd(randomSpd(40, 1), 40, new Float64Array(1600), { threads: 2, workerUrl, parallelMinSize: 0 });
    expect(report.threads).toBe(1);
  });

  it('falls back to in-process when the compiled worker comes from other kernels', async () => {
    const stale = join(dir, 'stale-worker.js');
    await writeFile(
      stale,
      "import { parentPort } from 'node:worker_threads';\n" +
        "parentPort.on('message', () => parentPort.postMessage({ kind: 'ready', version: -1 }));\n",
    );
    const n = 61;
    const a = allocateSquare(n);
    a.set(randomSpd(n, 5));
    const expected = gaussJordanInverse(a, n);
    const report = await invertSpd(a, n, a, { threads: 2, workerUrl: pathToFileURL(stale), parallelMinSize: 0 });
    expect(report.threads).toBe(1);
    expect(maxAbsDiff(a, expected)).toBeLessThan(1e-10);
  });

  it('resolves the worker next to the module, else under dist/ mirroring src/, else null', async () => {
    const root = join(dir, 'project');
    await mkdir(join(root, 'src', 'math'), { recursive: true });
    await mkdir(join(root, 'dist', 'math'), { recursive: true });
    const moduleUrl = pathToFileURL(join(root, 'src', 'math', 'dense-inverse-threads.ts')).href;
    expect(resolveWorkerUrl(moduleUrl)).toBeNull();
    await writeFile(join(root, 'dist', 'math', 'dense-inverse-worker.js'), '');
    expect(resolveWorkerUrl(moduleUrl)?.href).toBe(pathToFileURL(join(root, 'dist', 'math', 'dense-inverse-worker.js')).href);
    await writeFile(join(root, 'src', 'math', 'dense-inverse-worker.js'), '');
    expect(resolveWorkerUrl(moduleUrl)?.href).toBe(pathToFileURL(join(root, 'src', 'math', 'dense-inverse-worker.js')).href);
  });
});
