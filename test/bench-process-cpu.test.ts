import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { treeCpuMs } from '../bench/process-cpu.js';

const linux = process.platform === 'linux';

describe.skipIf(!linux)('treeCpuMs (the serving benchmark’s CPU per request)', () => {
  it('counts the CPU of a process and of the children it forks', async () => {
    // A parent that starts a child; both spin for 400 ms, then idle until killed.
    const script = `
      const { spawn } = require('node:child_process');
      spawn(process.execPath, ['-e', 'const end = Date.now() + 400; while (Date.now() < end); setInterval(() => {}, 1000);'], { stdio: 'ignore' });
      const end = Date.now() + 400;
      while (Date.now() < end);
      console.log('spun');
      setInterval(() => {}, 1000);
    `;
    // Its own process group, so that killing the group takes the child too.
    const parent = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
    try {
      await once(parent.stdout, 'data');
      const before = treeCpuMs(parent.pid!);
      // Let the child finish its spin (it started just before the parent's).
      await new Promise((r) => setTimeout(r, 500));
      const after = treeCpuMs(parent.pid!);
      expect(before).toBeGreaterThanOrEqual(300);
      // The child's spin shows up too: more than the parent's alone.
      expect(after).toBeGreaterThanOrEqual(650);
      expect(treeCpuMs(2 ** 22 + 12345)).toBeNaN();
    } finally {
      process.kill(-parent.pid!, 'SIGKILL');
    }
  });
});
