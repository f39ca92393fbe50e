/**
 * @module Reading rendered Kubernetes objects in tests: finding objects, reaching the pod spec of a
 * workload (Deployment, StatefulSet, Job, CronJob), listing its containers, and comparing resource
 * quantities ("250m" CPU, "512Mi" memory) by value.
 */
import type { K8sObject } from './chart-tools.js';

/** A container as rendered (fields read by name). */
export type Container = { name: string; image: string; args?: string[]; command?: string[]; env?: EnvVar[]; [k: string]: unknown };
export type EnvVar = { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string }; [k: string]: unknown } };
export type PodSpec = { containers: Container[]; initContainers?: Container[]; [k: string]: unknown };

/** Objects of one kind. */
export function ofKind(objects: readonly K8sObject[], kind: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind);
}

/** The only object of `kind`. @throws when there is none or several */
export function single(objects: readonly K8sObject[], kind: string): K8sObject {
  const found = ofKind(objects, kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`);
  return found[0];
}

/** Dotted-path read of an untyped object; undefined when any step is missing. */
export function at(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const step of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[step];
  }
  return cur;
}

const POD_SPEC_PATH: Readonly<Record<string, string>> = {
  Deployment: 'spec.template.spec',
  StatefulSet: 'spec.template.spec',
  DaemonSet: 'spec.template.spec',
  Job: 'spec.template.spec',
  CronJob: 'spec.jobTemplate.spec.template.spec',
  Pod: 'spec',
};

/** Pod spec of a workload object, or undefined for other kinds. */
export function podSpecOf(obj: K8sObject): PodSpec | undefined {
  const path = POD_SPEC_PATH[obj.kind];
  return path === undefined ? undefined : (at(obj, path) as PodSpec);
}

/** Every workload with its pod spec. */
export function workloads(objects: readonly K8sObject[]): { obj: K8sObject; pod: PodSpec }[] {
  return objects.flatMap((obj) => {
    const pod = podSpecOf(obj);
    return pod ? [{ obj, pod }] : [];
  });
}

/** Init containers then containers, in the order the kubelet runs them. */
export function allContainers(pod: PodSpec): Container[] {
  return [...(pod.initContainers ?? []), ...pod.containers];
}

const BINARY_SUFFIX: Readonly<Record<string, number>> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL_SUFFIX: Readonly<Record<string, number>> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/**
 * Value of a Kubernetes quantity in base units (cores for CPU, bytes for memory): "250m" → 0.25,
 * "1.5Gi" → 1610612736, 2 → 2, "1e3" → 1000.
 * @throws Error for text that is not a quantity
 */
export function quantityValue(q: string | number): number {
  if (typeof q === 'number') return q;
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei)|([eE][+-]?\d+)|(n|u|m|k|M|G|T|P|E)?)$/.exec(q.trim());
  if (!m) throw new Error(`not a Kubernetes quantity: ${JSON.stringify(q)}`);
  const [, num, binary, exponent, decimal] = m;
  if (binary) return Number(num) * BINARY_SUFFIX[binary];
  if (exponent) return Number(`${num}${exponent}`);
  return Number(num) * DECIMAL_SUFFIX[decimal ?? ''];
}
