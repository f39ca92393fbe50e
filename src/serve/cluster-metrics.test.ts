import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { transpileForChild } from './test-support/ts-child.js';

describe('requestClusterMetrics', () => {
  it('answers scrapes that arrive together with one request to the primary, and a later one with a new request', async () => {
    const js = await transpileForChild(join(import.meta.dirname, 'test-support/metrics-request-child.ts'));
    const child = spawn(process.execPath, [js, '50'], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    let requests = 0;
    child.on('message', (msg: { type: string; id: number }) => {
      if (msg.type !== 'rtrec:metrics-request') return;
      requests++;
      const text = `metrics #${requests}`;
      setTimeout(() => child.send({ type: 'rtrec:metrics-reply', id: msg.id, text }), 50);
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    expect(code).toBe(0);
    const got = JSON.parse(out) as { texts: string[]; after: string; listeners: number };
    expect(got.texts).toEqual(Array(50).fill('metrics #1'));
    expect(got.after).toBe('metrics #2');
    expect(requests).toBe(2);
    expect(got.listeners).toBe(0);
  });
});
