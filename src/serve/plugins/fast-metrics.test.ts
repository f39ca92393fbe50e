import { AggregatorRegistry, Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createRng } from '../../core/rng.js';
import { FastCounter, FastHistogram } from './fast-metrics.js';

const BUCKETS = [0.001, 0.01, 0.1, 1];

describe('fast metrics', () => {
  it('give the same exposition text as prom-client for the same observations', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const fastTime = new FastHistogram({ name: 'x_seconds', help: 'latency', buckets: BUCKETS, registers: [ours] });
    const fastCount = new FastCounter({ name: 'x_total', help: 'requests', registers: [ours] });
    const time = new Histogram({ name: 'x_seconds', help: 'latency', labelNames: ['route', 'status'], buckets: BUCKETS, registers: [theirs] });
    const count = new Counter({ name: 'x_total', help: 'requests', labelNames: ['route', 'status'], registers: [theirs] });
    const rng = createRng(3);
    const labelSets = [{ route: '/a', status: '200' }, { route: '/b', status: '404' }];
    // Values on the bucket bounds too: le is inclusive.
    const values = [...BUCKETS, 0, 5, ...Array.from({ length: 200 }, () => rng.next() ** 4 * 2)];
    values.forEach((v, j) => {
      const labels = labelSets[j % 2];
      fastTime.series(labels).observe(v);
      fastCount.series(labels).inc();
      time.observe(labels, v);
      count.inc(labels);
    });
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it('keep one series per label set whatever the key order', () => {
    const h = new FastHistogram({ name: 'y_seconds', help: 'h', buckets: BUCKETS });
    expect(h.series({ a: '1', b: '2' })).toBe(h.series({ b: '2', a: '1' }));
    expect(h.series({ a: '1', b: '2' })).not.toBe(h.series({ a: '1', b: '3' }));
  });

  it('sum across processes with prom-client AggregatorRegistry (cluster workers)', async () => {
    const regs = [new Registry(), new Registry()];
    regs.forEach((r, j) => {
      const c = new FastCounter({ name: 'z_total', help: 'c', registers: [r] });
      c.series({ route: '/a' }).inc(j + 1);
      const h = new FastHistogram({ name: 'z_seconds', help: 'h', buckets: BUCKETS, registers: [r] });
      h.series({ route: '/a' }).observe(0.005 * (j + 1));
    });
    const merged = AggregatorRegistry.aggregate(await Promise.all(regs.map((r) => r.getMetricsAsJSON())));
    const text = await merged.metrics();
    expect(text).toMatch(/^z_total\{route="\/a"\} 3$/m);
    expect(text).toMatch(/^z_seconds_bucket\{le="0.01",route="\/a"\} 2$/m);
    expect(text).toMatch(/^z_seconds_count\{route="\/a"\} 2$/m);
  });

  it('rejects buckets that are not ascending', () => {
    expect(() => new FastHistogram({ name: 'w', help: 'w', buckets: [1, 0.5] })).toThrow(/ascending/);
  });
});
