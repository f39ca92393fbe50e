import { describe, expect, it } from 'vitest';
import { CONFIG_ENV, ServeConfigSchema, flagOf, loadServeConfig } from './config.js';
import { parseTrustProxy } from './trust-proxy.js';

describe('loadServeConfig', () => {
  it('uses the schema defaults when nothing is set', () => {
    const c = loadServeConfig({ env: {} });
    expect(c).toMatchObject({ store: 'lmdb://.rtrec/store', host: '127.0.0.1', port: 8080, workers: 1, apiKeys: [], requireKeyForReads: false, rateLimitRps: 0, refreshMs: 250, logLevel: 'info' });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('reads RTREC_* variables, and flags override them', () => {
    const env = { RTREC_PORT: '9000', RTREC_API_KEYS: ' key-one-123456 , key-two-123456 ,', RTREC_REQUIRE_KEY_FOR_READS: 'yes', RTREC_RATE_LIMIT_RPS: '2.5', RTREC_STORE: 'redis://h:1/0' };
    const c = loadServeConfig({ env, flags: { port: '9100', store: 'lmdb:///x' } });
    expect(c.port).toBe(9100);
    expect(c.store).toBe('lmdb:///x');
    expect(c.apiKeys).toEqual(['key-one-123456', 'key-two-123456']);
    expect(c.requireKeyForReads).toBe(true);
    expect(c.rateLimitRps).toBe(2.5);
  });

  it('names the variable or flag at fault, without echoing API keys', () => {
    expect(() => loadServeConfig({ env: { RTREC_PORT: '70000' } })).toThrow(/RTREC_PORT/);
    expect(() => loadServeConfig({ env: {}, flags: { port: 'http' } })).toThrow(/--port must be a number/);
    expect(() => loadServeConfig({ env: { RTREC_TRUST_PROXY: 'maybe' } })).toThrow(/RTREC_TRUST_PROXY: expected false, or comma-separated addresses/);
    expect(() => loadServeConfig({ env: { RTREC_LOG_LEVEL: 'loud' } })).toThrow(/RTREC_LOG_LEVEL/);
    expect(() => loadServeConfig({ env: { RTREC_WORKERS: '0' } })).toThrow(expect.objectContaining({ code: 'RTREC_ERR_CONFIG_INVALID' }));
    let message = '';
    try {
      loadServeConfig({ env: { RTREC_API_KEYS: 'short' } });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/RTREC_API_KEYS/);
    expect(message).not.toContain('short,');
    expect(() => loadServeConfig({ env: { RTREC_REQUIRE_KEY_FOR_READS: '1' } })).toThrow(/no API key/);
  });

  it('has an environment variable for every setting and kebab-case flags', () => {
    expect(Object.keys(CONFIG_ENV).sort()).toEqual(Object.keys(ServeConfigSchema.properties).sort());
    for (const v of Object.values(CONFIG_ENV)) expect(v).toMatch(/^RTREC_[A-Z_]+$/);
    expect(flagOf('rateLimitRps')).toBe('--rate-limit-rps');
  });

  it('reads which proxies to trust, by address only: never every hop or a hop count', () => {
    expect(parseTrustProxy(loadServeConfig({ env: {} }).trustProxy)).toBe(false);
    expect(parseTrustProxy(loadServeConfig({ env: { RTREC_TRUST_PROXY: 'off' } }).trustProxy)).toBe(false);
    expect(parseTrustProxy(loadServeConfig({ env: { RTREC_TRUST_PROXY: 'Loopback' } }).trustProxy)).toEqual(['loopback']);
    expect(parseTrustProxy(' 10.0.0.0/8, 127.0.0.1 ,uniquelocal,fd00::/8')).toEqual(['10.0.0.0/8', '127.0.0.1', 'uniquelocal', 'fd00::/8']);
    expect(() => loadServeConfig({ env: { RTREC_TRUST_PROXY: 'true' } })).toThrow(/RTREC_TRUST_PROXY: .*"true" would believe addresses a client sends itself.*loopback.*uniquelocal/);
    expect(() => loadServeConfig({ env: {}, flags: { trustProxy: '2' } })).toThrow(/--trust-proxy: .*"2" would believe/);
    expect(() => loadServeConfig({ env: {}, flags: { trustProxy: '10.0.0.0/33' } })).toThrow(/--trust-proxy: .*"10.0.0.0\/33" is none of these/);
    expect(() => loadServeConfig({ env: { RTREC_TRUST_PROXY: '10.0.0.1,' } })).toThrow(/RTREC_TRUST_PROXY: .*"" is none of these/);
  });

  it('reads the model folder and event weights, and names RTREC_EVENT_WEIGHTS when they are malformed', () => {
    const c = loadServeConfig({ env: { RTREC_MODEL_DIR: '/models/current', RTREC_EVENT_WEIGHTS: 'view=0.5,share=3' } });
    expect(c.modelDir).toBe('/models/current');
    expect(c.eventWeights).toBe('view=0.5,share=3');
    expect(loadServeConfig({ env: {} }).modelDir).toBe('');
    expect(() => loadServeConfig({ env: { RTREC_EVENT_WEIGHTS: 'view=lots' } })).toThrow(/RTREC_EVENT_WEIGHTS: "view=lots" is not type=weight/);
    expect(() => loadServeConfig({ env: {}, flags: { eventWeights: 'rating=2' } })).toThrow(/--event-weights: rating events weigh their value/);
  });
});
