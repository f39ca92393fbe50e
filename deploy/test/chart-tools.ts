/**
 * @module The tools the Helm chart tests drive: finding helm and the offline schema validator
 * (both installed into .tools/ by scripts/install-helm.sh), rendering the chart with
 * `helm template` into plain objects, `helm lint`, and validating objects against the Kubernetes
 * API schemas of several versions (deploy/test/validate_manifests.py over kubernetes-validate).
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CHART_DIR = join(REPO_ROOT, 'deploy', 'helm', 'rtrec');
const VALIDATOR_SCRIPT = join(REPO_ROOT, 'deploy', 'test', 'validate_manifests.py');

/** A Kubernetes object as parsed from YAML (fields untyped: tests read them by path). */
export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; [k: string]: unknown }; [k: string]: unknown };

export interface ChartTools {
  /** helm executable. */
  readonly helm: string;
  /** Python of the venv that has kubernetes-validate. */
  readonly python: string;
}

export interface ValidationResult {
  readonly index: number;
  readonly kind: string;
  readonly name: string;
  /** Kubernetes version asked for, e.g. 1.29.0. */
  readonly version: string;
  readonly status: 'ok' | 'invalid' | 'no-schema';
  readonly message: string;
}

function runs(cmd: string, args: readonly string[]): boolean {
  return spawnSync(cmd, args, { stdio: 'ignore', timeout: 30_000 }).status === 0;
}

/**
 * The chart tools, or the reason they are missing. helm: $HELM, else .tools/bin/helm, else helm on
 * the PATH. Validator: $RTREC_K8S_VALIDATE_PYTHON, else .tools/venv/bin/python.
 */
export function findChartTools(env: NodeJS.ProcessEnv = process.env): { tools?: ChartTools; missing?: string } {
  const localHelm = join(REPO_ROOT, '.tools', 'bin', 'helm');
  const helm = env.HELM ?? (existsSync(localHelm) ? localHelm : 'helm');
  if (!runs(helm, ['version', '--short'])) return { missing: `helm (${helm}) cannot be run` };
  const python = env.RTREC_K8S_VALIDATE_PYTHON ?? join(REPO_ROOT, '.tools', 'venv', 'bin', 'python');
  if (!runs(python, ['-c', 'import kubernetes_validate'])) return { missing: `kubernetes-validate is not importable by ${python}` };
  return { tools: { helm, python } };
}

function run(cmd: string, args: readonly string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = execFile(cmd, args, { maxBuffer: 64 * 1024 * 1024, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') {
        reject(new Error(`${cmd} could not run: ${err.message}`, { cause: err }));
        return;
      }
      resolvePromise({ code: err ? Number(err.code) : 0, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

export interface RenderOptions {
  /** Values files, relative to the chart folder (e.g. values-production.yaml). */
  readonly valuesFiles?: readonly string[];
  /** --set-json entries: path → any JSON value. */
  readonly set?: Readonly<Record<string, unknown>>;
  /** Kubernetes version helm renders for (the chart's kubeVersion constraint is checked against it). */
  readonly kubeVersion?: string;
  readonly releaseName?: string;
  readonly namespace?: string;
}

function templateArgs(opts: RenderOptions): string[] {
  const args = ['template', opts.releaseName ?? 'rel', CHART_DIR, '--namespace', opts.namespace ?? 'recs', '--kube-version', opts.kubeVersion ?? '1.29.0'];
  for (const file of opts.valuesFiles ?? []) args.push('--values', join(CHART_DIR, file));
  for (const [path, value] of Object.entries(opts.set ?? {})) args.push('--set-json', `${path}=${JSON.stringify(value)}`);
  return args;
}

/**
 * Renders the chart and parses every document.
 * @throws Error with helm's message when rendering fails (see renderFailure for expected failures)
 */
export async function renderChart(tools: ChartTools, opts: RenderOptions = {}): Promise<K8sObject[]> {
  const res = await run(tools.helm, templateArgs(opts));
  if (res.code !== 0) throw new Error(`helm template failed: ${res.stderr.trim()}`);
  return parseManifests(res.stdout);
}

/** helm's error message when rendering with `opts` fails, or undefined when it succeeds. */
export async function renderFailure(tools: ChartTools, opts: RenderOptions): Promise<string | undefined> {
  const res = await run(tools.helm, templateArgs(opts));
  return res.code === 0 ? undefined : res.stderr.trim();
}

/** Objects of a multi-document YAML stream; empty documents are dropped. @throws on a YAML error */
export function parseManifests(text: string): K8sObject[] {
  const out: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors[0].message}`);
    const value: unknown = doc.toJS();
    if (value !== null && value !== undefined) out.push(value as K8sObject);
  }
  return out;
}

/** `helm lint --strict` of the chart with these values files; resolves with its exit code and output. */
export async function lintChart(tools: ChartTools, valuesFiles: readonly string[] = []): Promise<{ code: number; output: string }> {
  const args = ['lint', '--strict', CHART_DIR, ...valuesFiles.flatMap((f) => ['--values', join(CHART_DIR, f)])];
  const res = await run(tools.helm, args);
  return { code: res.code, output: `${res.stdout}${res.stderr}` };
}

/** Validates every object against each Kubernetes version's strict schemas. */
export async function validateObjects(tools: ChartTools, objects: readonly K8sObject[], versions: readonly string[]): Promise<ValidationResult[]> {
  const res = await run(tools.python, [VALIDATOR_SCRIPT, ...versions], JSON.stringify(objects));
  if (res.code !== 0) throw new Error(`validate_manifests.py failed (${res.code}): ${res.stderr.trim()}`);
  return JSON.parse(res.stdout) as ValidationResult[];
}
