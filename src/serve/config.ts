/**
 * @module Server configuration: one TypeBox schema is the type, the defaults, the documentation and
 * the validator. Values come from defaults, then `RTREC_*` environment variables (explicit table
 * below), then command-line flags; the result is validated once and frozen.
 */
import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';
import { RecError } from '../core/errors.js';
import { loadEventConfig } from '../events/event-config.js';
import { DEFAULT_STORE_URL } from '../store/open-store.js';
import { parseTrustProxy } from './trust-proxy.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const ServeConfigSchema = Type.Object(
  {
    store: Type.String({ minLength: 1, default: DEFAULT_STORE_URL, description: 'Online store URL: lmdb:///path, redis://host:port/db or redis+cluster://h1:p1,h2:p2.' }),
    host: Type.String({ minLength: 1, default: '127.0.0.1', description: 'Interface to listen on (0.0.0.0 for all).' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080, description: 'TCP port (0 picks a free one).' }),
    workers: Type.Integer({ minimum: 1, maximum: 256, default: 1, description: 'Processes serving the port (node:cluster); 1 serves in-process.' }),
    apiKeys: Type.Array(Type.String({ minLength: 8 }), { default: [], description: 'API keys (comma-separated in the environment); admin routes need one.' }),
    requireKeyForReads: Type.Boolean({ default: false, description: 'Require an API key on the read routes too.' }),
    rateLimitRps: Type.Number({ minimum: 0, default: 0, description: 'Requests per second allowed per client (API key, else IP); 0 turns rate limiting off.' }),
    rateLimitBurst: Type.Integer({ minimum: 1, default: 200, description: 'Requests a client may send at once before the per-second rate applies.' }),
    bodyLimitBytes: Type.Integer({ minimum: 1024, default: 1_048_576, description: 'Largest request body accepted, in bytes.' }),
    refreshMs: Type.Integer({ minimum: 10, maximum: 60_000, default: 250, description: 'How often the active version is re-read from the store, in ms.' }),
    storeTimeoutMs: Type.Integer({ minimum: 1, default: 250, description: 'A store read slower than this (ms) is answered from the fallbacks.' }),
    answerCacheSize: Type.Integer({ minimum: 0, maximum: 10_000_000, default: 10_000, description: 'Recent answers kept in memory (slots of a direct-mapped table): reused while the list read for an id is unchanged, and served while the store is unreachable. Each holds a list and one rendered answer (about 2 KB at k = 10).' }),
    logLevel: Type.Union(LOG_LEVELS.map((l) => Type.Literal(l)), { default: 'info', description: 'pino log level.' }),
    shutdownTimeoutMs: Type.Integer({ minimum: 0, default: 10_000, description: 'On SIGTERM, longest wait for in-flight requests before exiting, in ms.' }),
    trustProxy: Type.String({
      default: 'false',
      description:
        'Proxies in front whose X-Forwarded-For entries are believed, for the client address of rate limits and logs: comma-separated addresses or CIDR ranges, or loopback, linklocal, uniquelocal (private networks); false: none. Never every hop, nor a hop count: a client could pick its own address.',
    }),
    modelDir: Type.String({ default: '', description: 'Model folder of the published model, for real-time updates from POST /v1/events (empty: events are logged only).' }),
    popularityHalfLifeHours: Type.Number({
      exclusiveMinimum: 0,
      maximum: 87_600,
      default: 24,
      description: 'Half-life of an event\u2019s weight in the live popular list, in hours: the served popular list ranks items by published count + the decayed sum of their positive event weights.',
    }),
    foldThreads: Type.Integer({
      minimum: 0,
      maximum: 64,
      default: 2,
      description: 'Worker threads per process that fold users in and rank the catalogue after events (with a model folder), so reads are not held up meanwhile; 0 does it on the event loop.',
    }),
    eventIngest: Type.Union([Type.Literal('thread'), Type.Literal('event-loop')], {
      default: 'thread',
      description: 'Where POST /v1/events logs events and updates lists: on a thread of its own (thread), so that this work and its garbage collection never hold up reads on the event loop, or on the event loop itself (event-loop). Without a model folder (modelDir) events are only logged and counted, on the event loop either way.',
    }),
    maxEventsInFlight: Type.Integer({
      minimum: 0,
      default: 50_000,
      description:
        'Events one process holds at once between receiving a POST /v1/events and answering it. A post that would go beyond is refused with 503 RTREC_ERR_EVENT_OVERLOADED and retry-after: 1, so an overloaded server sheds load instead of queueing without bound (0: no bound). A post always fits when none is in flight.',
    }),
    eventWeights: Type.String({ default: '', description: 'Event type weights over the defaults, e.g. "view=1,click=2,purchase=5,dislike=-5" (negative = dislike).' }),
    eventSync: Type.Union([Type.Literal('commit'), Type.Literal('fsync')], {
      default: 'commit',
      description: 'What POST /v1/events waits for before its 202: commit (the event log append is committed: kept when the API process is killed; LMDB flushes to disk right behind) or fsync (LMDB: also flushed to disk, kept on power loss; Redis: as commit, its appendfsync decides).',
    }),
  },
  { additionalProperties: false },
);

export type ServeConfig = Static<typeof ServeConfigSchema>;
export type ServeConfigKey = keyof ServeConfig;

/** Environment variable of every setting. */
export const CONFIG_ENV: Readonly<Record<ServeConfigKey, string>> = {
  store: 'RTREC_STORE',
  host: 'RTREC_HOST',
  port: 'RTREC_PORT',
  workers: 'RTREC_WORKERS',
  apiKeys: 'RTREC_API_KEYS',
  requireKeyForReads: 'RTREC_REQUIRE_KEY_FOR_READS',
  rateLimitRps: 'RTREC_RATE_LIMIT_RPS',
  rateLimitBurst: 'RTREC_RATE_LIMIT_BURST',
  bodyLimitBytes: 'RTREC_BODY_LIMIT_BYTES',
  refreshMs: 'RTREC_REFRESH_MS',
  storeTimeoutMs: 'RTREC_STORE_TIMEOUT_MS',
  answerCacheSize: 'RTREC_ANSWER_CACHE_SIZE',
  logLevel: 'RTREC_LOG_LEVEL',
  shutdownTimeoutMs: 'RTREC_SHUTDOWN_TIMEOUT_MS',
  trustProxy: 'RTREC_TRUST_PROXY',
  modelDir: 'RTREC_MODEL_DIR',
  foldThreads: 'RTREC_FOLD_THREADS',
  eventIngest: 'RTREC_EVENT_INGEST',
  maxEventsInFlight: 'RTREC_MAX_EVENTS_IN_FLIGHT',
  eventWeights: 'RTREC_EVENT_WEIGHTS',
  eventSync: 'RTREC_EVENT_SYNC',
  popularityHalfLifeHours: 'RTREC_POPULARITY_HALF_LIFE_HOURS',
};

/** Flag spelling of a setting, e.g. rateLimitRps → --rate-limit-rps. */
export function flagOf(key: ServeConfigKey): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

type RawValue = string | number | boolean | readonly string[] | undefined;

/**
 * Builds the configuration: defaults ← environment ← flags (flags already parsed by commander may be
 * strings or numbers). Secrets never appear in error messages.
 * @throws RTREC_ERR_CONFIG_INVALID naming the variable or flag at fault
 */
export function loadServeConfig(options: { env?: NodeJS.ProcessEnv; flags?: Partial<Record<ServeConfigKey, RawValue>> } = {}): Readonly<ServeConfig> {
  const env = options.env ?? process.env;
  const merged: Record<string, unknown> = {};
  const sourceOf: Partial<Record<ServeConfigKey, string>> = {};
  for (const key of Object.keys(CONFIG_ENV) as ServeConfigKey[]) {
    const fromEnv = env[CONFIG_ENV[key]];
    if (fromEnv !== undefined && fromEnv !== '') {
      merged[key] = convert(key, fromEnv, CONFIG_ENV[key]);
      sourceOf[key] = CONFIG_ENV[key];
    }
    const fromFlag = options.flags?.[key];
    if (fromFlag !== undefined) {
      merged[key] = typeof fromFlag === 'string' ? convert(key, fromFlag, flagOf(key)) : fromFlag;
      sourceOf[key] = flagOf(key);
    }
  }
  const config = Value.Default(ServeConfigSchema, merged) as Record<string, unknown>;
  const firstError = [...Value.Errors(ServeConfigSchema, config)][0];
  if (firstError) {
    const key = firstError.instancePath.split('/')[1] as ServeConfigKey | undefined;
    const where = key ? (sourceOf[key] ?? key) : 'configuration';
    const secret = key === 'apiKeys';
    throw new RecError('RTREC_ERR_CONFIG_INVALID', `${where}: ${firstError.message}${secret ? ' (API keys must be at least 8 characters)' : ''}`);
  }
  const result = config as ServeConfig;
  if (result.requireKeyForReads && result.apiKeys.length === 0) {
    throw new RecError('RTREC_ERR_CONFIG_INVALID', `${sourceOf.requireKeyForReads ?? 'requireKeyForReads'} is on but no API key is configured (${CONFIG_ENV.apiKeys})`);
  }
  try {
    parseTrustProxy(result.trustProxy);
  } catch (err) {
    throw new RecError('RTREC_ERR_CONFIG_INVALID', `${sourceOf.trustProxy ?? 'trustProxy'}: ${(err as Error).message}`, { cause: err });
  }
  try {
    loadEventConfig(result.eventWeights);
  } catch (err) {
    throw new RecError('RTREC_ERR_CONFIG_INVALID', `${sourceOf.eventWeights ?? 'eventWeights'}: ${(err as Error).message.replace(/^RTREC_EVENT_WEIGHTS: /, '')}`, { cause: err });
  }
  return Object.freeze({ ...result, apiKeys: Object.freeze([...result.apiKeys]) as string[] });
}

/** Converts text from the environment or a flag to the setting's type. */
function convert(key: ServeConfigKey, text: string, where: string): unknown {
  const schema = ServeConfigSchema.properties[key] as { type?: string };
  switch (schema.type) {
    case 'integer':
    case 'number': {
      const n = Number(text.trim());
      if (text.trim() === '' || !Number.isFinite(n)) throw new RecError('RTREC_ERR_CONFIG_INVALID', `${where} must be a number, got ${JSON.stringify(text)}`);
      return n;
    }
    case 'boolean': {
      const t = text.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(t)) return true;
      if (['0', 'false', 'no', 'off'].includes(t)) return false;
      throw new RecError('RTREC_ERR_CONFIG_INVALID', `${where} must be true or false, got ${JSON.stringify(text)}`);
    }
    case 'array':
      return text.split(',').map((s) => s.trim()).filter((s) => s !== '');
    default:
      return text;
  }
}
