import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONFIG_ENV, loadServeConfig } from '../../src/serve/config.js';
import { parseRedisUrl } from '../../src/store/redis-conn.js';
import { CHART_DIR, findChartTools, lintChart, renderChart, renderFailure, validateObjects, type ChartTools, type K8sObject, type RenderOptions } from './chart-tools.js';
import { allContainers, at, ofKind, podSpecOf, quantityValue, single, workloads, type Container, type PodSpec } from './k8s-inspect.js';

/** Kubernetes minor versions the chart supports: every object must be valid for each. */
const KUBE_VERSIONS = ['1.29.0', '1.30.0', '1.31.0'];
/** Custom resources the schemas do not cover; the tests check their shape by hand. */
const CUSTOM_KINDS = new Set(['monitoring.coreos.com/v1 ServiceMonitor']);

// Made-up secrets handed to the chart in values, to prove they only ever land in the Secret.
const INLINE_REDIS_PASSWORD = 'Xq7-redis-pw-3c9e1b';
const INLINE_API_KEYS = ['key-alpha-5d1e9a77', 'key-bravo-8b3c7f21'];
const EXTERNAL_CLUSTER = 'redis+cluster://r1.example:6379,r2.example:6379,r3.example:6379';

const production = parse(readFileSync(join(CHART_DIR, 'values-production.yaml'), 'utf8')) as {
  image: { repository: string; tag: string };
  autoscaling: { minReplicas: number; maxReplicas: number; targetCPUUtilizationPercentage: number; requestsPerSecond: { metricName: string; targetAverageValue: string } };
  store: { external: { url: string }; keyPrefix: string };
  retrain: { schedule: string; keepVersions: number; data: { path: string } };
  auth: { existingSecret: string };
};

const SCENARIOS = {
  default: {},
  production: { valuesFiles: ['values-production.yaml'] },
  /** Trial install with keys, a fixed Redis password and embedded retraining that keeps no history. */
  trial: {
    set: {
      'auth.apiKeys': INLINE_API_KEYS,
      'api.requireKeyForReads': true,
      'redis.password': INLINE_REDIS_PASSWORD,
      'retrain.enabled': true,
      'retrain.keepVersions': 0,
      'retrain.data.volume': { persistentVolumeClaim: { claimName: 'events' } },
    },
  },
  /** External Redis Cluster with an inline password, Spark on Kubernetes, every optional object on. */
  spark: {
    set: {
      'store.mode': 'external',
      'store.external.url': EXTERNAL_CLUSTER,
      'store.external.username': 'rtrec',
      'store.external.password': INLINE_REDIS_PASSWORD,
      'auth.apiKeys': INLINE_API_KEYS,
      'retrain.enabled': true,
      'retrain.train.engine': 'spark',
      'retrain.spark.executorImage': 'spark:4.0.1-java17',
      'retrain.spark.sharedClaim': 'spark-shared',
      'retrain.data.volume': { persistentVolumeClaim: { claimName: 'events' } },
      'ingress.enabled': true,
      'autoscaling.enabled': true,
      'autoscaling.requestsPerSecond.enabled': true,
      'metrics.serviceMonitor.enabled': true,
    },
  },
} satisfies Record<string, RenderOptions>;
type Scenario = keyof typeof SCENARIOS;
const SCENARIO_NAMES = Object.keys(SCENARIOS) as Scenario[];

/** Runs the suite when helm and the validator exist; skips loudly without them, except in CI. */
function describeChart(name: string, fn: (tools: () => ChartTools) => void): void {
  const { tools, missing } = findChartTools();
  if (tools) {
    describe(name, () => fn(() => tools));
    return;
  }
  if (process.env.CI) throw new Error(`${missing ?? 'chart tools missing'} but CI is set: .ci/run must run scripts/install-helm.sh`);
  process.stderr.write(`\n!!! SKIPPING "${name}": ${missing ?? 'chart tools missing'}. Run scripts/install-helm.sh (about 3 minutes the first time). These tests run in CI. !!!\n\n`);
  describe.skip(name, () => fn(() => { throw new Error('unreachable'); }));
}

function apiDeployment(objects: readonly K8sObject[]): { obj: K8sObject; pod: PodSpec; api: Container } {
  const obj = single(objects, 'Deployment');
  const pod = podSpecOf(obj)!;
  const api = pod.containers.find((c) => c.name === 'api');
  if (!api) throw new Error('no api container');
  return { obj, pod, api };
}

function labelsMatch(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);
}

function envValue(c: Container, name: string): string | undefined {
  return c.env?.find((e) => e.name === name)?.value;
}

/** Every secret value of a render: the Secret's data (API keys split) plus the made-up inline ones. */
function secretValues(objects: readonly K8sObject[]): string[] {
  const out = new Set<string>([INLINE_REDIS_PASSWORD, ...INLINE_API_KEYS]);
  for (const secret of ofKind(objects, 'Secret')) {
    for (const [key, b64] of Object.entries((secret.data ?? {}) as Record<string, string>)) {
      const text = Buffer.from(b64, 'base64').toString('utf8');
      for (const part of key.includes('api-keys') ? text.split(',') : [text]) if (part !== '') out.add(part);
    }
  }
  return [...out];
}

/** The server's environment from the rendered API pod: ConfigMap, then env (secret refs resolved). */
function serverEnv(objects: readonly K8sObject[]): NodeJS.ProcessEnv {
  const { api } = apiDeployment(objects);
  const env: NodeJS.ProcessEnv = { ...(single(objects, 'ConfigMap').data as Record<string, string>) };
  const secretData = (ofKind(objects, 'Secret')[0]?.data ?? {}) as Record<string, string>;
  for (const e of api.env ?? []) {
    const ref = e.valueFrom?.secretKeyRef;
    const raw = ref ? Buffer.from(secretData[ref.key] ?? '', 'base64').toString('utf8') : (e.value ?? '');
    // The kubelet's $(VAR) expansion of variables defined earlier in the list.
    env[e.name] = raw.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (_m, v: string) => env[v] ?? `$(${v})`);
  }
  return env;
}

describeChart('Helm chart deploy/helm/rtrec', (tools) => {
  const rendered = {} as Record<Scenario, K8sObject[]>;

  beforeAll(async () => {
    const objects = await Promise.all(SCENARIO_NAMES.map((s) => renderChart(tools(), SCENARIOS[s])));
    SCENARIO_NAMES.forEach((s, i) => { rendered[s] = objects[i]; });
  });

  describe('lint and schemas', () => {
    it.each([[[]], [['values-production.yaml']]])('helm lint --strict passes with values %j', async (files: string[]) => {
      const res = await lintChart(tools(), files);
      expect(res.output).toContain('0 chart(s) failed');
      expect(res.code).toBe(0);
    });

    it.each(SCENARIO_NAMES)('every object of the %s render is valid for Kubernetes 1.29, 1.30 and 1.31 (strict)', async (scenario) => {
      const objects = rendered[scenario];
      const results = await validateObjects(tools(), objects, KUBE_VERSIONS);
      expect(results).toHaveLength(objects.length * KUBE_VERSIONS.length);
      const problems = results.filter((r) => {
        if (r.status === 'ok') return false;
        const obj = objects[r.index];
        return !(r.status === 'no-schema' && CUSTOM_KINDS.has(`${obj.apiVersion} ${obj.kind}`));
      });
      expect(problems.map((r) => `${r.kind}/${r.name} @${r.version}: ${r.status} ${r.message}`)).toEqual([]);
    });

    it('the validator rejects what the API server would: unknown fields and removed API versions', async () => {
      const { obj } = apiDeployment(rendered.default);
      const typo = structuredClone<K8sObject>(obj);
      const container = (at(typo, 'spec.template.spec.containers.0') as Record<string, unknown>);
      container.readinesProbe = container.readinessProbe;
      const removed = { apiVersion: 'autoscaling/v2beta2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'old' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'x' }, maxReplicas: 2 } };
      const results = await validateObjects(tools(), [typo, removed], ['1.29.0']);
      expect(results.map((r) => r.status)).toEqual(['invalid', 'no-schema']);
      expect(results[0].message).toContain('readinesProbe');
    });

    it('refuses Kubernetes versions older than 1.29', async () => {
      expect(await renderFailure(tools(), { kubeVersion: '1.28.9' })).toMatch(/kubeVersion/);
    });
  });

  describe('API Deployment', () => {
    it.each(SCENARIO_NAMES)('%s: readiness on /readyz, liveness and start-up on /healthz, on the served port', (scenario) => {
      const objects = rendered[scenario];
      const { api } = apiDeployment(objects);
      const port = (api.ports as { name: string; containerPort: number }[]).find((p) => p.name === 'http');
      expect(port?.containerPort).toBe(Number(serverEnv(objects).RTREC_PORT));
      expect(at(api, 'readinessProbe.httpGet')).toEqual({ path: '/readyz', port: 'http' });
      expect(at(api, 'livenessProbe.httpGet')).toEqual({ path: '/healthz', port: 'http' });
      expect(at(api, 'startupProbe.httpGet')).toEqual({ path: '/healthz', port: 'http' });
      expect(api.args).toEqual(['serve']);
    });

    it.each(SCENARIO_NAMES)('%s: the server accepts the configuration the pod gets', (scenario) => {
      const env = serverEnv(rendered[scenario]);
      for (const key of Object.keys(env)) {
        if (key.startsWith('RTREC_') && key !== 'RTREC_NO_PROGRESS' && key !== 'RTREC_STORE_PASSWORD') expect(Object.values(CONFIG_ENV)).toContain(key);
      }
      const config = loadServeConfig({ env });
      expect(config.host).toBe('0.0.0.0');
      const target = parseRedisUrl(config.store);
      expect(target.description).not.toContain(INLINE_REDIS_PASSWORD);
    });

    it('serves the store and keys the values name', () => {
      const trial = loadServeConfig({ env: serverEnv(rendered.trial) });
      expect(trial.apiKeys).toEqual(INLINE_API_KEYS);
      expect(trial.requireKeyForReads).toBe(true);
      const spark = parseRedisUrl(serverEnv(rendered.spark).RTREC_STORE!);
      expect(spark.kind).toBe('cluster');
      expect(spark.urls).toEqual(['r1.example:6379', 'r2.example:6379', 'r3.example:6379'].map((h) => `redis://rtrec:${INLINE_REDIS_PASSWORD}@${h}`));
      const prod = parseRedisUrl(serverEnv(rendered.production).RTREC_STORE!.replace('$(RTREC_STORE_PASSWORD)', 'pw'));
      expect(prod.kind).toBe('cluster');
      expect(prod.prefix).toBe(production.store.keyPrefix);
      expect(prod.urls).toHaveLength(production.store.external.url.split(',').length);
    });

    it('uses the image of the values', () => {
      expect(apiDeployment(rendered.production).api.image).toBe(`${production.image.repository}:${production.image.tag}`);
      expect(apiDeployment(rendered.default).api.image).toMatch(/^rtrec:\d+\.\d+\.\d+/);
    });

    it('spreads pods over zones and nodes with a selector that matches them', () => {
      const { obj, pod } = apiDeployment(rendered.default);
      const podLabels = at(obj, 'spec.template.metadata.labels') as Record<string, string>;
      const spread = pod.topologySpreadConstraints as { topologyKey: string; labelSelector: { matchLabels: Record<string, string> } }[];
      expect(spread.map((s) => s.topologyKey).sort()).toEqual(['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
      for (const s of spread) expect(labelsMatch(s.labelSelector.matchLabels, podLabels)).toBe(true);
    });

    it('keeps serving during a rollout and drains before stopping', () => {
      const { obj, pod, api } = apiDeployment(rendered.default);
      expect(at(obj, 'spec.strategy.rollingUpdate.maxUnavailable')).toBe(0);
      const sleep = Number((at(api, 'lifecycle.preStop.exec.command') as string[])[1]);
      const shutdownSeconds = Number(serverEnv(rendered.default).RTREC_SHUTDOWN_TIMEOUT_MS) / 1000;
      expect(sleep + shutdownSeconds).toBeLessThan(pod.terminationGracePeriodSeconds as number);
    });

    it('Service, PodDisruptionBudget and ServiceMonitor select the API pods', () => {
      for (const scenario of SCENARIO_NAMES) {
        const objects = rendered[scenario];
        const podLabels = at(apiDeployment(objects).obj, 'spec.template.metadata.labels') as Record<string, string>;
        const apiServices = ofKind(objects, 'Service').filter((s) => labelsMatch(at(s, 'spec.selector') as Record<string, string>, podLabels));
        expect(apiServices).toHaveLength(1);
        expect(labelsMatch(at(single(objects, 'PodDisruptionBudget'), 'spec.selector.matchLabels') as Record<string, string>, podLabels)).toBe(true);
      }
      const objects = rendered.production;
      const monitor = single(objects, 'ServiceMonitor');
      const podLabels = at(apiDeployment(objects).obj, 'spec.template.metadata.labels') as Record<string, string>;
      const apiService = ofKind(objects, 'Service').find((s) => labelsMatch(at(s, 'spec.selector') as Record<string, string>, podLabels))!;
      expect(labelsMatch(at(monitor, 'spec.selector.matchLabels') as Record<string, string>, apiService.metadata.labels as Record<string, string>)).toBe(true);
      const endpoint = (at(monitor, 'spec.endpoints') as { port: string; path: string }[])[0];
      expect(endpoint.path).toBe('/metrics');
      expect((at(apiService, 'spec.ports') as { name: string }[]).map((p) => p.name)).toContain(endpoint.port);
    });

    it('carries Prometheus scrape annotations for the metrics port by default', () => {
      const { obj, api } = apiDeployment(rendered.default);
      const annotations = at(obj, 'spec.template.metadata.annotations') as Record<string, string>;
      expect(annotations['prometheus.io/scrape']).toBe('true');
      expect(annotations['prometheus.io/path']).toBe('/metrics');
      expect(Number(annotations['prometheus.io/port'])).toBe((api.ports as { containerPort: number }[])[0].containerPort);
    });
  });

  describe('security', () => {
    it.each(SCENARIO_NAMES)('%s: every pod and container runs as non-root, read-only, without capabilities', (scenario) => {
      const all = workloads(rendered[scenario]);
      expect(all.length).toBeGreaterThan(0);
      for (const { obj, pod } of all) {
        const where = `${obj.kind}/${obj.metadata.name}`;
        expect(at(pod, 'securityContext.runAsNonRoot'), where).toBe(true);
        expect(at(pod, 'securityContext.runAsUser') as number, where).toBeGreaterThan(0);
        for (const c of allContainers(pod)) {
          const sc = c.securityContext as Record<string, unknown> | undefined;
          expect(sc?.allowPrivilegeEscalation, `${where} ${c.name}`).toBe(false);
          expect(sc?.readOnlyRootFilesystem, `${where} ${c.name}`).toBe(true);
          expect(at(sc, 'capabilities.drop'), `${where} ${c.name}`).toContain('ALL');
          expect(sc?.privileged, `${where} ${c.name}`).not.toBe(true);
          if (sc?.runAsUser !== undefined) expect(sc.runAsUser as number).toBeGreaterThan(0);
        }
      }
    });

    it.each(SCENARIO_NAMES)('%s: no secret value appears outside the Secret (ConfigMaps, env values, args)', (scenario) => {
      const objects = rendered[scenario];
      const secrets = secretValues(objects);
      expect(secrets.length).toBeGreaterThanOrEqual(INLINE_API_KEYS.length + 1);
      for (const obj of objects) {
        if (obj.kind === 'Secret') continue;
        const text = JSON.stringify(obj);
        for (const s of secrets) expect(text.includes(s), `${obj.kind}/${obj.metadata.name} holds a secret`).toBe(false);
      }
      for (const cm of ofKind(objects, 'ConfigMap')) {
        // The URL may carry the password, so RTREC_STORE is set on the container from the Secret.
        const risky = (k: string) => k === CONFIG_ENV.apiKeys || k === CONFIG_ENV.store || /PASSWORD|SECRET|TOKEN|API_KEY/i.test(k);
        expect(Object.keys(cm.data ?? {}).filter(risky)).toEqual([]);
      }
    });

    it('the Secret holds the values given, and every secret reference resolves', () => {
      for (const scenario of SCENARIO_NAMES) {
        const objects = rendered[scenario];
        const secrets = ofKind(objects, 'Secret');
        const keysOf = new Map(secrets.map((s) => [s.metadata.name, Object.keys(s.data ?? {})]));
        for (const { pod } of workloads(objects)) {
          for (const c of allContainers(pod)) {
            for (const e of c.env ?? []) {
              const ref = e.valueFrom?.secretKeyRef;
              if (!ref) continue;
              if (scenario === 'production') expect(ref.name).toBe(production.auth.existingSecret);
              else expect(keysOf.get(ref.name), `${c.name} ${e.name}`).toContain(ref.key);
            }
          }
        }
      }
      expect(ofKind(rendered.production, 'Secret')).toHaveLength(0);
      const env = serverEnv(rendered.spark);
      expect(env.RTREC_API_KEYS).toBe(INLINE_API_KEYS.join(','));
      expect(env.RTREC_STORE_PASSWORD).toBe(INLINE_REDIS_PASSWORD);
    });

    it('does not mount a service-account token into the API pods', () => {
      for (const scenario of SCENARIO_NAMES) expect(apiDeployment(rendered[scenario]).pod.automountServiceAccountToken).toBe(false);
    });
  });

  describe('resources and scaling', () => {
    it.each(SCENARIO_NAMES)('%s: every container requests and limits CPU and memory, requests within limits', (scenario) => {
      for (const { obj, pod } of workloads(rendered[scenario])) {
        for (const c of allContainers(pod)) {
          const where = `${obj.kind}/${obj.metadata.name} ${c.name}`;
          for (const resource of ['cpu', 'memory']) {
            const request = at(c, `resources.requests.${resource}`) as string | undefined;
            const limit = at(c, `resources.limits.${resource}`) as string | undefined;
            expect(request, `${where} requests.${resource}`).toBeDefined();
            expect(limit, `${where} limits.${resource}`).toBeDefined();
            expect(quantityValue(request!), `${where} ${resource}`).toBeLessThanOrEqual(quantityValue(limit!));
          }
        }
      }
    });

    it('production autoscales between the bounds of its values, on CPU and requests/s', () => {
      const objects = rendered.production;
      const hpa = single(objects, 'HorizontalPodAutoscaler');
      const a = production.autoscaling;
      expect(at(hpa, 'spec.minReplicas')).toBe(a.minReplicas);
      expect(at(hpa, 'spec.maxReplicas')).toBe(a.maxReplicas);
      expect(a.minReplicas).toBeGreaterThanOrEqual(2);
      expect(a.minReplicas).toBeLessThanOrEqual(a.maxReplicas);
      expect(at(hpa, 'spec.scaleTargetRef')).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: apiDeployment(objects).obj.metadata.name });
      const metrics = at(hpa, 'spec.metrics') as Record<string, unknown>[];
      expect(metrics).toContainEqual({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: a.targetCPUUtilizationPercentage } } });
      expect(metrics).toContainEqual({ type: 'Pods', pods: { metric: { name: a.requestsPerSecond.metricName }, target: { type: 'AverageValue', averageValue: a.requestsPerSecond.targetAverageValue } } });
      // The HPA owns the replica count: a fixed one would fight it on every upgrade.
      expect(at(apiDeployment(objects).obj, 'spec.replicas')).toBeUndefined();
    });

    it('without autoscaling the replica count is fixed and there is no HPA', () => {
      expect(ofKind(rendered.default, 'HorizontalPodAutoscaler')).toHaveLength(0);
      expect(at(apiDeployment(rendered.default).obj, 'spec.replicas')).toBe(2);
    });

    it('refuses inverted or empty autoscaling bounds', async () => {
      expect(await renderFailure(tools(), { set: { 'autoscaling.enabled': true, 'autoscaling.minReplicas': 5, 'autoscaling.maxReplicas': 3 } })).toMatch(/maxReplicas must be at least/);
      expect(await renderFailure(tools(), { set: { 'autoscaling.enabled': true, 'autoscaling.minReplicas': 0 } })).toMatch(/minReplicas must be at least 1/);
    });
  });

  describe('scheduled retraining', () => {
    function retrain(objects: readonly K8sObject[]): { cron: K8sObject; pod: PodSpec; names: string[]; byName: Map<string, Container> } {
      const cron = single(objects, 'CronJob');
      const pod = podSpecOf(cron)!;
      const containers = allContainers(pod);
      return { cron, pod, names: containers.map((c) => c.name), byName: new Map(containers.map((c) => [c.name, c])) };
    }

    it('is off by default', () => {
      expect(ofKind(rendered.default, 'CronJob')).toHaveLength(0);
      expect(ofKind(rendered.default, 'Role')).toHaveLength(0);
    });

    it('production trains, publishes the trained folder to the API store, then prunes', () => {
      const objects = rendered.production;
      const { cron, pod, names, byName } = retrain(objects);
      expect(at(cron, 'spec.schedule')).toBe(production.retrain.schedule);
      expect(at(cron, 'spec.concurrencyPolicy')).toBe('Forbid');
      expect(pod.restartPolicy).toBe('Never');
      expect(names).toEqual(['train', 'publish', 'prune']);
      expect(pod.initContainers!.map((c) => c.name)).toEqual(['train', 'publish']);
      const train = byName.get('train')!.args!;
      const publish = byName.get('publish')!.args!;
      expect(train[0]).toBe('train');
      expect(train[train.indexOf('--data') + 1]).toBe(production.retrain.data.path);
      expect(publish[0]).toBe('publish');
      expect(publish[publish.indexOf('--model') + 1]).toBe(train[train.indexOf('--out') + 1]);
      expect(publish).not.toContain('--no-activate');
      expect(byName.get('prune')!.args).toEqual(['versions', 'prune', '--keep', String(production.retrain.keepVersions)]);
      const apiStore = envValue(apiDeployment(objects).api, 'RTREC_STORE');
      expect(envValue(byName.get('publish')!, 'RTREC_STORE')).toBe(apiStore);
      expect(envValue(byName.get('prune')!, 'RTREC_STORE')).toBe(apiStore);
    });

    it('publish is the last step when no versions are pruned', () => {
      const { names } = retrain(rendered.trial);
      expect(names).toEqual(['train', 'publish']);
    });

    it('Spark on Kubernetes: k8s master, executor image, shared temp folder and a Role for executor pods', () => {
      const objects = rendered.spark;
      const { pod, byName } = retrain(objects);
      const train = byName.get('train')!;
      const args = train.args!;
      expect(args[args.indexOf('--engine') + 1]).toBe('spark');
      expect(args[args.indexOf('--spark-master') + 1]).toMatch(/^k8s:\/\//);
      const conf = args.filter((_a, i) => args[i - 1] === '--spark-conf');
      expect(conf).toContain('spark.kubernetes.container.image=spark:4.0.1-java17');
      expect(conf).toContain('spark.kubernetes.namespace=recs');
      expect(train.image).toMatch(/-spark$/);
      const tmp = envValue(train, 'TMPDIR');
      expect((train.volumeMounts as { name: string; mountPath: string }[]).find((m) => m.mountPath === tmp)?.name).toBe('shared');
      expect(conf).toContain(`spark.kubernetes.executor.volumes.persistentVolumeClaim.shared.mount.path=${tmp}`);
      expect(pod.automountServiceAccountToken).toBe(true);
      const binding = single(objects, 'RoleBinding');
      expect(at(binding, 'subjects.0.name')).toBe(pod.serviceAccountName);
      const rules = at(single(objects, 'Role'), 'rules') as { resources: string[]; verbs: string[] }[];
      expect(rules.some((r) => r.resources.includes('pods') && r.verbs.includes('create') && r.verbs.includes('delete'))).toBe(true);
    });

    it('refuses a retrain job without data or a Spark run without its executor image', async () => {
      expect(await renderFailure(tools(), { set: { 'retrain.enabled': true } })).toMatch(/retrain\.data\.volume is required/);
      const spark = { 'retrain.enabled': true, 'retrain.data.volume': { emptyDir: {} }, 'retrain.train.engine': 'spark' };
      expect(await renderFailure(tools(), { set: spark })).toMatch(/executorImage is required/);
    });
  });

  describe('store', () => {
    it('bundles a single Redis only in bundled mode, and the API points at it', () => {
      for (const scenario of ['default', 'trial'] as const) {
        const objects = rendered[scenario];
        const redis = single(objects, 'StatefulSet');
        expect(at(redis, 'spec.replicas')).toBe(1);
        const service = ofKind(objects, 'Service').find((s) => at(s, 'spec.clusterIP') !== 'None' && labelsMatch(at(s, 'spec.selector') as Record<string, string>, at(redis, 'spec.template.metadata.labels') as Record<string, string>));
        expect(service).toBeDefined();
        const store = parseRedisUrl(serverEnv(objects).RTREC_STORE!);
        expect(store.kind).toBe('single');
        expect(new URL(store.urls[0]).hostname).toBe(service!.metadata.name);
      }
      for (const scenario of ['production', 'spark'] as const) {
        expect(ofKind(rendered[scenario], 'StatefulSet')).toHaveLength(0);
        expect(ofKind(rendered[scenario], 'Service')).toHaveLength(1);
      }
    });

    it('keeps the bundled Redis password out of its command line', () => {
      const redis = allContainers(podSpecOf(single(rendered.trial, 'StatefulSet'))!)[0];
      expect(JSON.stringify(redis.command)).not.toContain(INLINE_REDIS_PASSWORD);
      expect(redis.env?.find((e) => e.name === 'REDIS_PASSWORD')?.valueFrom?.secretKeyRef).toBeDefined();
    });

    it('refuses credentials in the external URL, a non-Redis URL and an unknown mode', async () => {
      const external = { 'store.mode': 'external' };
      expect(await renderFailure(tools(), { set: { ...external, 'store.external.url': 'redis://:pw@r:6379/0' } })).toMatch(/must not hold credentials/);
      expect(await renderFailure(tools(), { set: { ...external, 'store.external.url': 'lmdb:///data/store' } })).toMatch(/cannot be shared/);
      expect(await renderFailure(tools(), { set: external })).toMatch(/store\.external\.url is required/);
      expect(await renderFailure(tools(), { set: { 'store.mode': 'memory' } })).toMatch(/store\.mode must be bundled or external/);
    });
  });
});
