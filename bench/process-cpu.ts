/**
 * @module CPU time of a server process and its workers, read from /proc (Linux): user + system time
 * of the process and of its live direct children (node:cluster workers). Divided by the requests
 * served, it gives the server's CPU per request, which a busy shared machine moves far less than
 * throughput or latency, so rows measured in different windows stay comparable.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

/** Clock ticks per second of /proc's times (USER_HZ). */
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** Fields after the command name of /proc/<pid>/stat (field 3, the state, is index 0), or undefined once gone. */
function statFields(pid: number | string): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** User + system CPU time in ms of process `pid` and its live direct children; NaN without /proc. */
export function treeCpuMs(pid: number): number {
  const own = statFields(pid);
  if (!own) return NaN;
  // utime and stime are fields 14 and 15 of stat, i.e. indices 11 and 12 here; the parent pid is field 4.
  let ticks = Number(own[11]) + Number(own[12]);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === pid) continue;
    const f = statFields(entry);
    if (f && Number(f[1]) === pid) ticks += Number(f[11]) + Number(f[12]);
  }
  return (ticks * 1000) / clockTicks();
}
