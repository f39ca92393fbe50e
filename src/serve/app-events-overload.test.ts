import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedModelSource, type ModelSource } from '../events/model-source.js';
import { explicitAlsModel } from '../events/test-support/explicit-als.js';
import { serveFixture, type ServeFixture } from './test-support/serve-fixture.js';

const KEY = 'overload-key-0123456789';
const headers = { 'x-api-key': KEY };

/** A model source that, while closed, holds every lookup (and so every ingest) until opened. */
function gatedSource(inner: ModelSource) {
  let open: Promise<void> = Promise.resolve();
  let release = (): void => undefined;
  let reached: () => void = () => undefined;
  const source: ModelSource = {
    async modelFor(served) {
      reached();
      await open;
      return inner.modelFor(served);
    },
  };
  return {
    source,
    /** Closes the gate; resolves once a lookup waits at it. */
    close(): Promise<void> {
      open = new Promise((r) => (release = r));
      return new Promise((r) => (reached = r));
    },
    open(): void {
      reached = () => undefined;
      release();
    },
  };
}

const events = (user: string, n: number) => ({ events: Array.from({ length: n }, (_, j) => ({ userId: user, itemId: `i${j}`, type: 'view' })) });

describe('POST /v1/events: a bound on events in flight', () => {
  let fx: ServeFixture;
  let gate: ReturnType<typeof gatedSource>;
  beforeAll(async () => {
    const { model } = await explicitAlsModel(40, 30, 5);
    gate = gatedSource(fixedModelSource(model));
    fx = await serveFixture([model], { config: { apiKeys: [KEY], maxEventsInFlight: 5 }, models: gate.source });
  });
  afterAll(async () => {
    gate.open();
    await fx.close();
  });

  const post = (payload: unknown) => fx.app.inject({ method: 'POST', url: '/v1/events', headers, payload: payload as Record<string, unknown> });

  it('refuses a post that would go beyond the bound (503, retry-after, nothing logged), takes one that fits, and always one when none is in flight', async () => {
    const reached = gate.close();
    const first = post(events('held', 3));
    await reached;

    const refused = await post(events('refused', 3));
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    const body = refused.json<{ code: string; message: string }>();
    expect(body.code).toBe('RTREC_ERR_EVENT_OVERLOADED');
    expect(body.message).toMatch(/^3 events are in flight on this server and 3 more would exceed its bound of 5 \(RTREC_MAX_EVENTS_IN_FLIGHT\)/);
    expect(await fx.store.userEvents('refused')).toEqual([]);

    // 3 + 2 fits the bound of 5.
    const second = post(events('fits', 2));
    gate.open();
    expect((await first).statusCode).toBe(202);
    expect((await second).statusCode).toBe(202);
    expect((await fx.store.userEvents('fits')).length).toBe(2);

    // Once nothing is in flight, the refused post goes through, and so does one larger than the bound.
    expect((await post(events('refused', 3))).statusCode).toBe(202);
    const large = await post(events('large', 8));
    expect(large.statusCode).toBe(202);
    expect(large.json()).toMatchObject({ accepted: 8 });
  });
});
