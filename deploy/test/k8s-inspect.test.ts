import { describe, expect, it } from 'vitest';
import type { K8sObject } from './chart-tools.js';
import { allContainers, at, podSpecOf, quantityValue } from './k8s-inspect.js';

describe('quantityValue', () => {
  it('reads CPU quantities in cores', () => {
    expect(quantityValue('250m')).toBeCloseTo(0.25, 12);
    expect(quantityValue('1')).toBe(1);
    expect(quantityValue('1.5')).toBe(1.5);
    expect(quantityValue(2)).toBe(2);
  });

  it('reads binary and decimal memory suffixes and exponents', () => {
    expect(quantityValue('512Mi')).toBe(512 * 1024 * 1024);
    expect(quantityValue('2Gi')).toBe(2 * 1024 * 1024 * 1024);
    expect(quantityValue('128k')).toBe(128_000);
    expect(quantityValue('1M')).toBe(1_000_000);
    expect(quantityValue('1e3')).toBe(1000);
    // 1Gi is more than 1G: the comparison the resource tests rely on.
    expect(quantityValue('1Gi')).toBeGreaterThan(quantityValue('1G'));
  });

  it('refuses text that is not a quantity', () => {
    expect(() => quantityValue('1 GB')).toThrow(/not a Kubernetes quantity/);
    expect(() => quantityValue('lots')).toThrow(/not a Kubernetes quantity/);
    expect(() => quantityValue('')).toThrow(/not a Kubernetes quantity/);
  });
});

describe('pod specs', () => {
  it('finds the pod spec of a CronJob and lists init containers first', () => {
    const cron = {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'c' },
      spec: { jobTemplate: { spec: { template: { spec: { initContainers: [{ name: 'a', image: 'i' }], containers: [{ name: 'b', image: 'i' }] } } } } },
    } as K8sObject;
    const pod = podSpecOf(cron);
    expect(pod).toBeDefined();
    expect(allContainers(pod!).map((c) => c.name)).toEqual(['a', 'b']);
  });

  it('has no pod spec for kinds that run nothing', () => {
    expect(podSpecOf({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' } })).toBeUndefined();
  });

  it('reads dotted paths and stops at missing steps', () => {
    expect(at({ a: { b: { c: 3 } } }, 'a.b.c')).toBe(3);
    expect(at({ a: { b: null } }, 'a.b.c')).toBeUndefined();
    expect(at({ a: [10, 20] }, 'a.1')).toBe(20);
  });
});
