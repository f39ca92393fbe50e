import { describe, expect, it } from 'vitest';
import { loadEventConfig } from './event-config.js';
import { checkEvent } from './event-validate.js';

const config = loadEventConfig('');
const NOW = Date.parse('2026-01-02T03:04:05Z');

function reason(raw: unknown): string {
  const r = checkEvent(raw, config, NOW);
  return r.ok ? 'ok' : r.reason;
}

describe('checkEvent', () => {
  it('accepts a full event and converts the timestamp to ms', () => {
    const r = checkEvent({ userId: 'u1', itemId: 'i1', type: 'rating', value: 4.5, timestamp: '2026-01-01T00:00:00Z', eventId: 'e-1' }, config, NOW);
    expect(r).toEqual({ ok: true, event: { eventId: 'e-1', userId: 'u1', itemId: 'i1', type: 'rating', value: 4.5, ts: Date.parse('2026-01-01T00:00:00Z') } });
  });

  it('reads date-times as the data loader does: UTC without a zone, impossible dates refused', () => {
    const ts = (timestamp: string) => {
      const r = checkEvent({ userId: 'u1', itemId: 'i1', type: 'view', timestamp }, config, NOW);
      return r.ok ? r.event.ts : r.reason;
    };
    // Node applies a change of TZ at once: a server far from UTC must still read zone-less times as UTC.
    const tz = process.env.TZ;
    process.env.TZ = 'America/New_York';
    try {
      expect(ts('2024-01-01T10:00:00')).toBe(Date.UTC(2024, 0, 1, 10));
      expect(ts('2024-01-01')).toBe(Date.UTC(2024, 0, 1));
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
    expect(ts('2024-01-01 10:00:00.250+02:00')).toBe(Date.UTC(2024, 0, 1, 8, 0, 0, 250));
    expect(ts('2024-02-30')).toMatch(/timestamp/);
    expect(ts('2024-01-01T24:30:00Z')).toMatch(/timestamp/);
    expect(ts('2024-01-01x')).toMatch(/timestamp/);
  });

  it('reads a numeric timestamp as ms since the epoch, and refuses one too small for ms (seconds) saying which unit is expected', () => {
    const ts = (timestamp: unknown) => {
      const r = checkEvent({ userId: 'u1', itemId: 'i1', type: 'view', timestamp }, config, NOW);
      return r.ok ? r.event.ts : r.reason;
    };
    expect(ts(1_767_225_600_000)).toBe(Date.parse('2026-01-01T00:00:00Z'));
    // The same time in seconds would be 1970-01-21 as ms: refused, not logged 56 years early.
    expect(ts(1_767_225_600)).toBe('timestamp 1767225600 is too small for ms since the epoch (it looks like seconds): send ms (e.g. 1767225600000) or an ISO-8601 time');
    expect(ts(0)).toMatch(/looks like seconds/);
    expect(ts(99_999_999_999)).toMatch(/looks like seconds/);
    expect(ts(100_000_000_000)).toBe(100_000_000_000);
    // Unambiguous forms are unaffected: an ISO-8601 time of 1970, a negative number as before.
    expect(ts('1970-01-02')).toBe(86_400_000);
    expect(ts(-5)).toMatch(/^timestamp must be an ISO-8601 time or ms since the epoch/);
  });

  it('defaults the time to the receive time and invents distinct event ids', () => {
    const a = checkEvent({ userId: 'u1', itemId: 'i1', type: 'view' }, config, NOW);
    const b = checkEvent({ userId: 'u1', itemId: 'i1', type: 'view', timestamp: 1_700_000_000_000 }, config, NOW);
    expect(a.ok && b.ok).toBe(true);
    if (!a.ok || !b.ok) return;
    expect(a.event.ts).toBe(NOW);
    expect(b.event.ts).toBe(1_700_000_000_000);
    expect(a.event.eventId).not.toBe(b.event.eventId);
    expect(a.event.value).toBeUndefined();
  });

  it('names what is wrong', () => {
    expect(reason([])).toMatch(/JSON object/);
    expect(reason({ userId: 'u', itemId: 'i', type: 'view', extra: 1 })).toMatch(/unknown field "extra"/);
    expect(reason({ itemId: 'i', type: 'view' })).toMatch(/^userId must be a non-empty string/);
    expect(reason({ userId: 'u', itemId: '', type: 'view' })).toMatch(/^itemId must be a non-empty string/);
    expect(reason({ userId: 'x'.repeat(257), itemId: 'i', type: 'view' })).toMatch(/^userId is longer than 256 bytes/);
    // 86 three-byte characters: 258 bytes although only 86 characters.
    expect(reason({ userId: '€'.repeat(86), itemId: 'i', type: 'view' })).toMatch(/longer than 256 bytes/);
    expect(reason({ userId: 'u\n', itemId: 'i', type: 'view' })).toMatch(/control character/);
    // A lone surrogate has no UTF-8 form: Redis and CSV exports would turn "\ud800" and "\udfff" into one id.
    for (const field of ['userId', 'itemId', 'eventId']) {
      for (const bad of ['\ud800', 'a\udfffb', '\ude00\ud83d']) {
        expect(reason({ userId: 'u', itemId: 'i', type: 'view', [field]: bad })).toMatch(new RegExp(`^${field} is not well-formed Unicode: it holds a lone surrogate`));
      }
    }
    expect(reason({ userId: 'u\ud83d\ude00', itemId: '\u{1F600}', type: 'view' })).toBe('ok');
    // Blank ids could not be trained on (the data loader refuses them).
    expect(reason({ userId: '   ', itemId: 'i', type: 'view' })).toMatch(/^userId must not be blank/);
    expect(reason({ userId: 'u', itemId: ' ', type: 'view' })).toMatch(/^itemId must not be blank/);
    expect(reason({ userId: ' u ', itemId: 'i', type: 'view' })).toBe('ok');
    expect(reason({ userId: 'u', itemId: 'i', type: 'like' })).toMatch(/^type must be one of add_to_cart, click, dislike, purchase, rating, view/);
    expect(reason({ userId: 'u', itemId: 'i', type: 'rating' })).toMatch(/value must be a number from 0.5 to 5/);
    expect(reason({ userId: 'u', itemId: 'i', type: 'rating', value: 5.5 })).toMatch(/value must be/);
    expect(reason({ userId: 'u', itemId: 'i', type: 'rating', value: 0.4 })).toMatch(/value must be/);
    expect(reason({ userId: 'u', itemId: 'i', type: 'click', value: 2 })).toMatch(/only allowed on rating/);
    expect(reason({ userId: 'u', itemId: 'i', type: 'click', timestamp: 'yesterday' })).toMatch(/timestamp/);
    expect(reason({ userId: 'u', itemId: 'i', type: 'click', timestamp: NOW + 2 * 86_400_000 })).toMatch(/timestamp/);
    expect(reason({ userId: 'u', itemId: 'i', type: 'click', eventId: '' })).toMatch(/^eventId/);
    expect(reason({ userId: 'u', itemId: 'i', type: 'rating', value: 0.5 })).toBe('ok');
  });
});
