import { describe, it, expect } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createInlineExecutor, createWorkerPool, resolveWorkerEntry } from './worker-pool.js';

describe('resolveWorkerEntry', () => {
  it('maps a TypeScript source module to the compiled file under dist/, or null when it is missing', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'rtrec-pool-'));
    try {
      await mkdir(path.join(root, 'src', 'models'), { recursive: true });
      const base = pathToFileURL(path.join(root, 'src', 'models', 'trainer.ts')).href;
      expect(resolveWorkerEntry('./worker.js', base)).toBeNull();
      await mkdir(path.join(root, 'dist', 'models'), { recursive: true });
      await writeFile(path.join(root, 'dist', 'models', 'worker.js'), '');
      expect(fileURLToPath(resolveWorkerEntry('./worker.js', base)!)).toBe(path.join(root, 'dist', 'models', 'worker.js'));
      // From compiled JS the sibling file is used as is.
      const jsBase = pathToFileURL(path.join(root, 'dist', 'models', 'trainer.js')).href;
      expect(fileURLToPath(resolveWorkerEntry('./worker.js', jsBase)!)).toBe(path.join(root, 'dist', 'models', 'worker.js'));
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('executors', () => {
  it('runs tasks in order in-process', async () => {
    const ex = createInlineExecutor((n: number) => n * n);
    expect(await ex.run([1, 2, 3])).toEqual([1, 4, 9]);
    expect(ex.parallelism).toBe(1);
    await ex.close();
  });

  // Uses a throwaway worker script so the pool is tested on its own.
  it('dispatches tasks to workers, keeps task order, propagates errors and closes', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rtrec-pool-'));
    const poolModule = pathToFileURL(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/math/worker-pool.js')).href;
    if (!existsSync(fileURLToPath(poolModule))) return; // not built: the model tests cover the fallback
    try {
      const entry = path.join(dir, 'square.mjs');
      await writeFile(
        entry,
        `import { serveWorkerTasks } from ${JSON.stringify(poolModule)};\n` +
          `serveWorkerTasks((data) => (task) => { if (task < 0) throw new Error('negative task'); let s = 0; for (let i = 0; i < task; i++) s += i % 2; return { value: task * data.factor + s * 0, thread: data.threadIndex }; });\n`,
      );
      const pool = await createWorkerPool<number, { value: number; thread: number }>(pathToFileURL(entry), 2, { factor: 3 });
      const results = await pool.run([1, 2, 3, 4, 5, 6, 7]);
      expect(results.map((r) => r.value)).toEqual([3, 6, 9, 12, 15, 18, 21]);
      expect(new Set(results.map((r) => r.thread)).size).toBeGreaterThanOrEqual(1);
      // Concurrent runs share the workers; each gets its own results in its own order.
      const [a, b, c] = await Promise.all([pool.run([1, 2, 3]), pool.run([10, 20]), pool.run([5])]);
      expect([a, b, c].map((r) => r.map((x) => x.value))).toEqual([[3, 6, 9], [30, 60], [15]]);
      await expect(pool.run([1, -1])).rejects.toThrow('negative task');
      await pool.close();
      await expect(pool.run([1])).rejects.toThrow('closed');

      // Closing while tasks run rejects them instead of leaving them waiting for stopped workers.
      const busy = await createWorkerPool<number, { value: number; thread: number }>(pathToFileURL(entry), 1, { factor: 1 });
      const running = expect(busy.run([1e9, 2, 3])).rejects.toThrow('closed');
      await busy.close();
      await running;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
