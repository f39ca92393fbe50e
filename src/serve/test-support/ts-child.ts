/**
 * @module Runs a TypeScript module of this repository in a separate Node process (tests that kill a
 * process mid-publish, or run a second server). Node 20 cannot run .ts files, so the entry and every
 * module it imports relatively are transpiled (syntax only, no type check) into a cache folder
 * inside node_modules, from where package imports still resolve.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const ROOT = resolve(import.meta.dirname, '../../..');
const CACHE = join(ROOT, 'node_modules', '.cache', 'rtrec-test-child');
let builds = 0;
const outDirs: string[] = [];
// The transpiled copies are only needed while this test process runs.
process.once('exit', () => {
  for (const d of outDirs) rmSync(d, { recursive: true, force: true });
});

/** Removes copies left by test processes that ended without running their exit handlers. */
async function removeStaleCopies(): Promise<void> {
  const names = await readdir(CACHE).catch(() => [] as string[]);
  for (const name of names) {
    const pid = Number(name.split('-')[0]);
    if (pid !== process.pid && !alive(pid)) await rm(join(CACHE, name), { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Transpiles `entry` (absolute .ts path) and its relative imports; returns the entry's .js path. */
export async function transpileForChild(entry: string): Promise<string> {
  if (builds === 0) await removeStaleCopies();
  const outDir = join(CACHE, `${process.pid}-${++builds}`);
  await mkdir(outDir, { recursive: true });
  outDirs.push(outDir);
  await writeFile(join(outDir, 'package.json'), '{ "type": "module" }\n');
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = await readFile(file, 'utf8');
    const js = ts.transpileModule(source, {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, sourceMap: false },
    }).outputText;
    const out = join(outDir, relative(ROOT, file)).replace(/\.ts$/, '.js');
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, js);
    // Static and dynamic imports, and worker entries located with resolveWorkerEntry('./x.js', …).
    for (const m of source.matchAll(/(?:from\s+|import\(|resolveWorkerEntry\()\s*'(\.{1,2}\/[^']+)\.js'/g)) {
      queue.push(resolve(dirname(file), `${m[1]}.ts`));
    }
  }
  return join(outDir, relative(ROOT, entry)).replace(/\.ts$/, '.js');
}

/** Starts `node <js> ...args` with stdout piped. */
export function spawnNode(js: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, [js, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
}

/** Resolves with the first stdout line matching `pattern` (rejects when the process exits first). */
export function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs = 20_000): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    let buf = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms; stderr: ${err}`)), timeoutMs);
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const onData = (d: Buffer) => {
      buf += d.toString();
      const line = buf.split('\n').find((l) => pattern.test(l));
      if (line !== undefined) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        resolvePromise(line);
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`child exited (${code ?? signal}) before printing ${pattern}; stderr: ${err}`));
    });
  });
}
