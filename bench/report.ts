/**
 * @module Shared by every benchmark: describes the machine and replaces the benchmark's own section
 * of BENCHMARKS.md (between `<!-- bench:NAME -->` markers), so each run records its machine, date
 * and exact command next to its numbers and other benchmarks' sections stay as they were.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { cpus, totalmem, platform, release } from 'node:os';
import { fileURLToPath } from 'node:url';

export const BENCHMARKS_FILE = fileURLToPath(new URL('../../BENCHMARKS.md', import.meta.url));

export function machineDescription(): string {
  const cpu = cpus();
  return `${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${cpu.length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${platform()} ${release()}, Node ${process.version}`;
}

/** The command line as typed, for the record (npm sets npm_lifecycle_event for `npm run bench:x`). */
export function commandLine(): string {
  const script = process.env.npm_lifecycle_event;
  const args = process.argv.slice(2).join(' ');
  return script ? `npm run ${script}${args ? ` -- ${args}` : ''}` : `node ${process.argv.slice(1).join(' ')}`;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Writes `body` as the section `name` of BENCHMARKS.md, with a header naming machine, date and command. */
export async function writeBenchmarkSection(name: string, title: string, body: string): Promise<void> {
  const start = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const section = [
    start,
    `## ${title}`,
    '',
    `- Machine: ${machineDescription()}`,
    `- Date: ${new Date().toISOString()}`,
    `- Command: \`${commandLine()}\``,
    '',
    body.trim(),
    end,
  ].join('\n');
  let doc: string;
  try {
    doc = await readFile(BENCHMARKS_FILE, 'utf8');
  } catch {
    doc = '# Benchmarks\n\nEvery section is written by the benchmark named in it (`npm run bench:*`); rerun it to refresh. Shared machines are noisy: compare only numbers measured in the same run.\n';
  }
  const at = doc.indexOf(start);
  const stop = doc.indexOf(end);
  doc = at >= 0 && stop > at ? doc.slice(0, at) + section + doc.slice(stop + end.length) : `${doc.trimEnd()}\n\n${section}\n`;
  await writeFile(BENCHMARKS_FILE, doc);
}

/**
 * Prints `table` and, unless `write` is false, writes it as the section `name` of BENCHMARKS.md in a
 * code block after the `intro` paragraphs (see writeBenchmarkSection).
 */
export async function reportTable(o: { name: string; title: string; intro: readonly string[]; table: string; write: boolean }): Promise<void> {
  process.stdout.write(`${o.table}\n`);
  if (!o.write) return;
  await writeBenchmarkSection(o.name, o.title, [...o.intro.flatMap((p) => [p, '']), '```', o.table, '```'].join('\n'));
}
