/**
 * @module Reading and checking the hyper-parameters of the factorisation models: merge with the
 * defaults, accept numbers given as strings (flags), reject unknown names and out-of-range values
 * with RTREC_ERR_CONFIG_INVALID so a misspelt option never silently falls back to a default.
 */
import { RecError } from '../core/errors.js';
import type { HyperParameters } from './recommender.js';

export type ParamSpec = Readonly<Record<string, { kind: 'int' | 'number' | 'boolean'; min?: number; description: string }>>;

function invalid(model: string, message: string): RecError {
  return new RecError('RTREC_ERR_CONFIG_INVALID', `${model}: ${message}`);
}

/** Defaults overridden by `given`, each value converted to its declared kind and range-checked. */
export function resolveParams(model: string, spec: ParamSpec, defaults: HyperParameters, given: HyperParameters): Record<string, number | boolean> {
  for (const key of Object.keys(given)) {
    if (!(key in spec)) throw invalid(model, `unknown hyper-parameter '${key}' (known: ${Object.keys(spec).join(', ')})`);
  }
  const out: Record<string, number | boolean> = {};
  for (const [key, { kind, min }] of Object.entries(spec)) {
    const raw = key in given ? given[key] : defaults[key];
    if (kind === 'boolean') {
      if (typeof raw === 'boolean') out[key] = raw;
      else if (raw === 'true' || raw === 'false') out[key] = raw === 'true';
      else throw invalid(model, `'${key}' must be true or false, got ${String(raw)}`);
      continue;
    }
    const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
    if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(model, `'${key}' must be a number, got ${String(raw)}`);
    if (kind === 'int' && !Number.isInteger(value)) throw invalid(model, `'${key}' must be an integer, got ${value}`);
    if (min !== undefined && value < min) throw invalid(model, `'${key}' must be at least ${min}, got ${value}`);
    out[key] = value;
  }
  return out;
}
